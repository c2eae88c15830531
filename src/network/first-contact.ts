/**
 * Joining through the first contact, retried until it took. A node that knows no neighbour sends
 * its first contact the handshake (FORGET self, NEW self-bundle); when the contact is down at
 * start-up a single attempt left the node alone for good (only a restart joined). So until the node
 * holds an APPROVED edge with any neighbour, the handshake is repeated with exponential backoff and
 * jitter, capped (default 30 s), for partial and full nodes alike, each attempt logged.
 *
 * After an attempt the contact accepted, the next one waits the full cap: the contact is then
 * answering, and the edges it offers take a few polls or deliveries to be approved; re-sending
 * sooner would make it forget and re-offer edges still on their way. If one is due all the same
 * (the join did not complete), it starts from a clean slate on this side too: this node forgets its
 * cached copy of the contact's node bundle, so the contact's re-sent bundle counts as NEW again and
 * the contact behaviour proposes its edge again.
 */
import { Event, EventType } from '../knowledge/index.ts';
import { EdgeStatus } from '../protocol/index.ts';
import { KOI_NET_NODE_TYPE, KoiNetNode } from '../rid/index.ts';
import type { Logger } from '../logger.ts';
import type { NetworkGraph } from '../graph/index.ts';
import type { RequestHandler } from '../peer/index.ts';
import type { NodeIdentity } from '../identity/index.ts';
import type { KnowledgeProcessor } from '../processor/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { errorText } from '../util/error-text.ts';
import type { Startable } from '../util/lifecycle.ts';

export interface FirstContactRetryOptions {
  /** Delay after the first failed attempt (default 1000 ms); it doubles per attempt. */
  initialDelayMs?: number;
  /** Longest delay between attempts (default 30000 ms). */
  maxDelayMs?: number;
  /** Each delay is drawn from [d * (1 - jitter), d] (default 0.2), so restarted fleets spread out. */
  jitter?: number;
}

export interface FirstContactJoinerOptions extends FirstContactRetryOptions {
  url: string;
  /** Signed mode: the contact's node RID (envelopes are addressed to it). */
  node?: KoiNetNode;
  identity: NodeIdentity;
  graph: NetworkGraph;
  cache: KnowledgeStore;
  requestHandler: RequestHandler;
  processor: KnowledgeProcessor;
  logger: Logger;
}

export const DEFAULT_FIRST_CONTACT_RETRY = { initialDelayMs: 1000, maxDelayMs: 30_000, jitter: 0.2 } as const;

export function validateFirstContactRetry(o: FirstContactRetryOptions | undefined): Required<FirstContactRetryOptions> {
  const r = { ...DEFAULT_FIRST_CONTACT_RETRY, ...o };
  if (!Number.isFinite(r.initialDelayMs) || r.initialDelayMs <= 0) throw new RangeError(`firstContactRetry.initialDelayMs must be positive, got ${r.initialDelayMs}`);
  if (!Number.isFinite(r.maxDelayMs) || r.maxDelayMs <= 0) throw new RangeError(`firstContactRetry.maxDelayMs must be positive, got ${r.maxDelayMs}`);
  if (!(r.jitter >= 0 && r.jitter < 1)) throw new RangeError(`firstContactRetry.jitter must be in [0, 1), got ${r.jitter}`);
  return { ...r, initialDelayMs: Math.min(r.initialDelayMs, r.maxDelayMs) };
}

/**
 * A node's joiner, or undefined when none can be made: the signed protocol addresses every
 * envelope to a node RID, so a signed node needs its first contact's (`node`) to send anything.
 */
export function firstContactJoinerFor(
  options: Omit<FirstContactJoinerOptions, 'node'> & { node: string | undefined; signed: boolean },
): FirstContactJoiner | undefined {
  const { node, signed, ...rest } = options;
  if (signed && node === undefined) {
    rest.logger.warn({ firstContact: rest.url }, 'signed protocol: no first-contact RID configured, so no handshake (envelopes need the target node RID)');
    return undefined;
  }
  return new FirstContactJoiner({ ...rest, ...(node === undefined ? {} : { node: KoiNetNode.of(node) }) });
}

export class FirstContactJoiner implements Startable {
  private readonly o: FirstContactJoinerOptions;
  private readonly retry: Required<FirstContactRetryOptions>;
  private attempts = 0;
  private failures = 0;
  private delivered = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: FirstContactJoinerOptions) {
    this.o = options;
    this.retry = validateFirstContactRetry(options);
  }

  /** True once this node holds an APPROVED edge with some neighbour. */
  joined(): boolean {
    return this.o.graph.getNeighbors({ status: EdgeStatus.APPROVED }).length > 0;
  }

  get attemptCount(): number {
    return this.attempts;
  }

  /** Runs the first attempt now (awaited) and keeps retrying in the background until joined or stopped. */
  async start(): Promise<void> {
    await this.attemptAndSchedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async attemptAndSchedule(): Promise<void> {
    if (this.stopped) return;
    if (this.joined()) {
      if (this.attempts > 0) this.o.logger.info({ firstContact: this.o.url, attempts: this.attempts }, 'joined the network through the first contact');
      return;
    }
    this.running = this.attempt();
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const delay = this.nextDelay();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.attemptAndSchedule();
    }, delay);
    // Retrying alone must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private nextDelay(): number {
    const { initialDelayMs, maxDelayMs, jitter } = this.retry;
    if (this.delivered) return maxDelayMs;
    const base = Math.min(initialDelayMs * 2 ** Math.max(0, this.failures - 1), maxDelayMs);
    return Math.max(1, Math.round(base * (1 - jitter * Math.random())));
  }

  private async attempt(): Promise<void> {
    const { url, node, identity, requestHandler, logger } = this.o;
    this.attempts++;
    if (this.delivered) await this.forgetContactBundle();
    logger.info({ firstContact: url, attempt: this.attempts }, 'first contact handshake attempt');
    const events = [Event.fromRid(identity.rid, EventType.FORGET), Event.fromBundle(identity.bundle, EventType.NEW)];
    try {
      await requestHandler.broadcastEvents(node === undefined ? { url } : { url, node }, { events });
      this.delivered = true;
      this.failures = 0;
      logger.info({ firstContact: url, attempt: this.attempts }, 'introduced this node to its first contact');
    } catch (err) {
      this.failures++;
      this.delivered = false;
      logger.warn(
        { firstContact: url, attempt: this.attempts, err: errorText(err) },
        'first contact unreachable; retrying with backoff',
      );
    }
  }

  /** The re-handshake's clean slate on this side (see the file comment). */
  private async forgetContactBundle(): Promise<void> {
    const { cache, graph, processor, url } = this.o;
    const wanted = trimSlash(url);
    for (const rid of cache.listRids([KOI_NET_NODE_TYPE])) {
      if (String(rid) === String(this.o.identity.rid)) continue;
      const profile = graph.getNodeProfile(String(rid));
      if (profile?.base_url && trimSlash(profile.base_url) === wanted) {
        await processor.handle({ rid, eventType: EventType.FORGET, flush: true });
      }
    }
  }
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}
