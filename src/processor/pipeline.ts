import { KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE } from '../rid/index.ts';
import { EventType, KnowledgeObject, KnowledgeSource, type Bundle, type Event, type Manifest } from '../knowledge/index.ts';
import { KoiNetError } from '../errors.ts';
import { debugEnabled, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';
import type { ProcessorComponents } from './components.ts';
import type { BackgroundWork } from './background.ts';
import type { QueueItem } from './kobj-queue.ts';
import { kobjFields } from './log-fields.ts';
import { forgetContentsText } from '../cache/contents-text.ts';
import { HandlerFailure, type HandlerRegistry } from './registry.ts';
import { HandlerType, STOP_CHAIN, type HandlerContext, type StopChain } from './handler.ts';

/** Where a kobj left the pipeline early. */
export type StopPoint =
  | HandlerType
  /** FORGET of an RID that is not cached. */
  | 'forget_not_cached'
  | 'no_manifest'
  | 'no_bundle'
  /** No handler set a normalized event type: nothing to write, delete or announce. */
  | 'no_normalized_event_type';

export type ProcessResult =
  | { status: 'completed'; kobj: KnowledgeObject }
  | { status: 'stopped'; kobj: KnowledgeObject; at: StopPoint }
  | { status: 'failed'; kobj: KnowledgeObject; error: unknown };

/** What announce() did: how many targets the Network chain picked, and when their pushes ended. */
export interface Announcement {
  targets: number;
  queued: Promise<void>;
}

const NODE_TYPE = KOI_NET_NODE_TYPE.toString();
const EDGE_TYPE = KOI_NET_EDGE_TYPE.toString();

/**
 * The steps of PROTOCOL.md section 4 for one kobj: the five handler chains around the fetches,
 * the cache write and the fan-out. Throws a HandlerFailure when a handler throws.
 */
export class Pipeline {
  constructor(
    private readonly components: ProcessorComponents,
    private readonly registry: HandlerRegistry,
    private readonly background: BackgroundWork,
    private readonly logger: Logger,
  ) {}

  /** PROTOCOL.md section 4, steps 1 to 6. */
  async process(item: QueueItem, ctx: HandlerContext): Promise<ProcessResult> {
    const { cache, graph, network } = this.components;
    const chains = this.registry;
    let kobj = item.kobj;
    // No closures here: under tsx each one created per kobj also cost a keepNames call. A chain
    // whose handlers all answered at once gives its result at once: no await, no microtask.
    let next: KnowledgeObject | StopChain | Promise<KnowledgeObject | StopChain>;

    // 1. RID chain; FORGET takes the last known state from the cache and skips to step 4.
    next = chains.call(HandlerType.RID, kobj, ctx);
    if (next instanceof Promise) next = await next;
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.RID);
    kobj = next;

    if (kobj.eventType === EventType.FORGET) {
      const cached = await cache.read(kobj.rid);
      if (!cached) return this.stopped(kobj, item, 'forget_not_cached');
      kobj.manifest = cached.manifest;
      kobj.contents = cached.contents;
    } else {
      // 2. Manifest: from a state provider when external, from the cache when internal.
      if (kobj.manifest === undefined) {
        let manifest: Manifest | null | undefined;
        if (kobj.source === KnowledgeSource.EXTERNAL) manifest = await network.fetchRemoteManifest(kobj.rid);
        else manifest = (await cache.read(kobj.rid))?.manifest;
        if (!manifest || manifest.rid.toString() !== kobj.rid.toString()) return this.stopped(kobj, item, 'no_manifest');
        kobj.manifest = manifest;
      }
      next = chains.call(HandlerType.Manifest, kobj, ctx);
      if (next instanceof Promise) next = await next;
      if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Manifest);
      kobj = next;

      // 3. Bundle, the same way; then the Bundle chain.
      if (kobj.contents === undefined || kobj.manifest === undefined) {
        let bundle: Bundle | null | undefined;
        if (kobj.source === KnowledgeSource.EXTERNAL) bundle = await network.fetchRemoteBundle(kobj.rid);
        else bundle = await cache.read(kobj.rid);
        if (!bundle || bundle.rid.toString() !== kobj.rid.toString()) return this.stopped(kobj, item, 'no_bundle');
        if (kobj.manifest !== undefined && kobj.manifest.sha256Hash !== bundle.manifest.sha256Hash) {
          // As the reference: the bundle wins, but the Manifest chain judged another state.
          this.logger.warn(kobjFields(kobj, item.sourceNode), 'fetched bundle carries a different manifest than the one handled');
        }
        kobj.manifest = bundle.manifest;
        kobj.contents = bundle.contents;
      }
      next = chains.call(HandlerType.Bundle, kobj, ctx);
      if (next instanceof Promise) next = await next;
      if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Bundle);
      kobj = next;
    }

    // 4. Cache write or delete; node and edge RIDs also change the network graph.
    const type = kobj.rid.type.toString();
    const isGraphType = type === NODE_TYPE || type === EDGE_TYPE;
    const normalized = kobj.normalizedEventType;
    if (normalized === EventType.NEW || normalized === EventType.UPDATE) {
      const bundle = kobj.bundle;
      if (bundle === undefined) {
        throw new KoiNetError('missing_bundle', `cannot cache ${kobj.rid.toString()}: a handler removed its manifest or contents`);
      }
      // Only the library's own handlers leave contents as they came: with any other registered,
      // a text kept with them (the server's, see cache/contents-text.ts) may be stale.
      if (chains.hasQueueUnsafeHandler) forgetContentsText(bundle.contents);
      const written = cache.write(bundle);
      if (cache.writesVisibleAtOnce === true) {
        this.background.persist(written, kobj, item.sourceNode);
        for (let wait = this.background.writeBacklog(); wait !== undefined; wait = this.background.writeBacklog()) await wait;
      } else await written;
      if (isGraphType) await graph.applyWrite(bundle);
    } else if (normalized === EventType.FORGET) {
      const deleted = cache.delete(kobj.rid);
      if (cache.writesVisibleAtOnce === true) {
        this.background.persist(deleted, kobj, item.sourceNode);
        for (let wait = this.background.writeBacklog(); wait !== undefined; wait = this.background.writeBacklog()) await wait;
      } else await deleted;
      if (isGraphType) await graph.applyDelete(kobj.rid);
    } else {
      return this.stopped(kobj, item, 'no_normalized_event_type');
    }

    // 5. Network chain picks the targets; the node the knowledge came from never gets it back.
    next = chains.call(HandlerType.Network, kobj, ctx);
    if (next instanceof Promise) next = await next;
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Network);
    kobj = next;
    if (item.sourceNode !== undefined && kobj.networkTargets.delete(item.sourceNode)) {
      this.logger.debug(kobjFields(kobj, item.sourceNode), 'not echoing the event to the node it came from');
    }
    if (kobj.networkTargets.size > 0) {
      // The next kobj need not wait for the queue file: the drain waits for it (see BackgroundWork).
      this.background.trackPush(this.queueToTargets(kobj, item.sourceNode));
      this.background.requestWebhookFlush(network, kobj, item.sourceNode);
    }

    // 6. Final chain.
    next = chains.call(HandlerType.Final, kobj, ctx);
    if (next instanceof Promise) next = await next;
    if (next === STOP_CHAIN) return this.stopped(kobj, item, HandlerType.Final);
    kobj = next;
    return { status: 'completed', kobj };
  }

  /**
   * Step 5 alone (Network chain, then queue to the targets it picks) for an event whose earlier
   * steps already ran. See ProcessorInterface.announce.
   */
  async announce(event: Event, ctx: HandlerContext): Promise<Announcement> {
    const none: Announcement = { targets: 0, queued: Promise.resolve() };
    if (event.eventType === EventType.FORGET) return none;
    const kobj = KnowledgeObject.fromEvent(event, KnowledgeSource.EXTERNAL);
    kobj.normalizedEventType = event.eventType;
    let next: KnowledgeObject | StopChain;
    try {
      next = await this.registry.call(HandlerType.Network, kobj, ctx);
    } catch (err) {
      const handler = err instanceof HandlerFailure ? err.handler : undefined;
      this.logger.warn({ rid: String(event.rid), handler, err: errorText(err instanceof HandlerFailure ? err.cause : err) }, 'network handler failed while re-announcing');
      return none;
    }
    if (next === STOP_CHAIN || next.networkTargets.size === 0) return none;
    return { targets: next.networkTargets.size, queued: this.queueToTargets(next, undefined) };
  }

  /**
   * All targets at once: each push resolves when a queue-file write that includes it ends, and
   * concurrent pushes share one write, where pushing in turn cost one write per target. Each push
   * changes its queue synchronously, so per-peer order is still kobj order. A network with
   * pushEventToMany (NetworkInterface) takes the whole fan-out in one call and one promise.
   */
  private queueToTargets(kobj: KnowledgeObject, sourceNode: string | undefined): Promise<void> {
    const event = kobj.normalizedEvent;
    const network = this.components.network;
    // One unreachable or unknown target must not cost the others their event.
    const failed = (target: string, err: unknown): void => {
      this.logger.warn({ ...kobjFields(kobj, sourceNode), target, err: String(err) }, 'could not queue event for target');
    };
    if (network.pushEventToMany !== undefined) {
      try {
        return Promise.resolve(network.pushEventToMany(event, kobj.networkTargets, failed)).then(() => undefined);
      } catch (err) {
        for (const target of kobj.networkTargets) failed(target, err);
        return Promise.resolve();
      }
    }
    return Promise.all(
      [...kobj.networkTargets].map(async (target) => {
        try {
          await network.pushEventTo(event, target);
        } catch (err) {
          failed(target, err);
        }
      }),
    ).then(() => undefined);
  }

  private stopped(kobj: KnowledgeObject, item: QueueItem, at: StopPoint): ProcessResult {
    if (debugEnabled(this.logger)) this.logger.debug({ ...kobjFields(kobj, item.sourceNode), at }, 'knowledge object stopped');
    return { status: 'stopped', kobj, at };
  }
}
