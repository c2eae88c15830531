import { NodeType, type NodeProfile } from '../protocol/index.ts';
import { KoiNetNode, RID } from '../rid/index.ts';
import { Event, eventsPayloadText } from '../knowledge/index.ts';
import { UnreachableNodeError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { bundlesAnswer, eventsAnswer, manifestsAnswer, readAnswer, readJsonAnswer, ridsAnswer } from './answers.ts';
import { createPeerClient, type PeerBody, type PeerClient, type PeerPath } from './client.ts';
import { connectionFailure, endpointUrl, refusal } from './error-mapping.ts';
import { postJsonBytes } from './http-fetch.ts';
import { eventsPayloadParts } from '../queues/index.ts';
import type {
  BroadcastEventsRequest,
  BundlesResult,
  EventsResult,
  FetchBundlesRequest,
  FetchManifestsRequest,
  FetchRidsRequest,
  ManifestsResult,
  NodeProfileSource,
  PeerFormatRule,
  PollEventsRequest,
  RequestHandlerOptions,
  RequestTarget,
  RidsResult,
  SignedClientOptions,
} from './types.ts';

/** What every call passes to the typed client besides the body. */
interface CallInit {
  /**
   * openapi-fetch leaves the body alone; readAnswer reads the middleware's answer: one read and one
   * JSON.parse, or none for a verified envelope, whose payload is parsed already.
   */
  parseAs: 'stream';
  /** Covers connecting through the last body byte: the error mapping reads the body under it. */
  signal: AbortSignal;
}
type Call = (client: PeerClient, init: CallInit) => Promise<{ response: Response }>;

/** Clients are cheap but not free; a node talks to a handful of peers, so a small cap is plenty. */
const MAX_CACHED_CLIENTS = 256;

/**
 * Makes the five KOI-net requests to other nodes over openapi-fetch's typed client. Signing,
 * verification and error mapping live in the client's middleware (client.ts), once for every
 * call. Every failure surfaces as one of four error classes, so callers (network interface,
 * poller) can decide retry-or-drop by class alone: UnreachableNodeError (we should not even try),
 * RemoteConnectionError (transport or timeout: retryable), RemoteHTTPError (peer answered
 * non-2xx), and RemoteResponseInvalidError (peer answered 2xx with a body that breaks the contract).
 */
export class RequestHandler {
  readonly timeoutMs: number;
  private readonly graph: NodeProfileSource;
  private readonly logger: Logger;
  private readonly clients = new Map<string, PeerClient>();
  private readonly signed: SignedClientOptions | undefined;
  private readonly peerFormat: PeerFormatRule | undefined;

  constructor(options: RequestHandlerOptions) {
    this.graph = options.graph;
    this.signed = options.signed;
    this.peerFormat = options.peerFormat;
    if (this.peerFormat && !this.signed) throw new TypeError('peerFormat needs the signed options (how to sign)');
    this.logger = options.logger ?? silentLogger;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The base URL a target resolves to; throws UnreachableNodeError with the reason when it cannot. */
  async resolveBaseUrl(target: RequestTarget): Promise<string> {
    if ('url' in target) return target.url;
    const label = String(target.node);
    let rid: RID;
    try {
      rid = typeof target.node === 'string' ? RID.fromString(target.node) : target.node;
    } catch {
      throw new UnreachableNodeError(label, 'not a valid RID');
    }
    if (!(rid instanceof KoiNetNode)) throw new UnreachableNodeError(label, 'not an orn:koi-net.node RID');
    const profile = await this.graph.getNodeProfile(rid);
    if (!profile) throw new UnreachableNodeError(label, 'unknown node (no profile in the cache)');
    if (profile.node_type !== NodeType.FULL) {
      throw new UnreachableNodeError(label, `it is a ${profile.node_type} node; only FULL nodes serve the API`);
    }
    if (!profile.base_url) throw new UnreachableNodeError(label, 'its profile has no base_url');
    return profile.base_url;
  }

  async broadcastEvents(target: RequestTarget, req: BroadcastEventsRequest): Promise<void> {
    // Events a node sends are Event objects, whose wire text is made once for every subscriber
    // (eventWireText); the typed body is only built for wire objects handed in by a caller.
    const allEvents = req.events.every((e) => e instanceof Event);
    if (allEvents && !(await this.signsTo(target))) {
      // A plain body of Events: views of the events' bytes, encoded and copied once for every
      // subscriber (queues/wire.ts), written out as they are (a webhook batch is hundreds of kB).
      await this.postPlainEvents(target, req.events as Event[]);
      return;
    }
    const text = allEvents ? eventsPayloadText(req.events as Event[]) : undefined;
    const body: PeerBody<'/events/broadcast'> = allEvents ? { events: [] } : { events: req.events.map((e) => (e instanceof Event ? e.toJSON() : e)) };
    const serialize = text === undefined ? {} : { bodySerializer: () => text };
    // The reference answers `null`; other peers send `{}` or nothing. Nothing in it matters, so a
    // 2xx is success whatever the body says (be liberal in what you accept).
    const { url } = await this.send(target, '/events/broadcast', (c, init) => c.POST('/events/broadcast', { ...init, body, ...serialize }));
    this.logger.debug({ url, count: req.events.length }, 'broadcast events');
  }

  /**
   * An unsigned broadcast without the typed client: the same request (headers, bytes) and the
   * same errors as through it (the error mapping's functions; a 2xx body must still be JSON).
   */
  private async postPlainEvents(target: RequestTarget, events: readonly Event[]): Promise<void> {
    const url = endpointUrl(await this.resolveBaseUrl(target), '/events/broadcast');
    const body = eventsPayloadParts(events);
    const signal = AbortSignal.timeout(this.timeoutMs);
    let answer: { status: number; text: string };
    try {
      answer = await postJsonBytes(url, body, signal);
    } catch (err) {
      throw connectionFailure(url, err, this.timeoutMs);
    }
    if (answer.status < 200 || answer.status > 299) throw refusal(url, answer.status, answer.text, false);
    readJsonAnswer(url, answer.text);
    this.logger.debug({ url, count: events.length }, 'broadcast events');
  }

  async pollEvents(target: RequestTarget, req: PollEventsRequest): Promise<EventsResult> {
    // limit is always sent (0 = no limit), as the reference's client does.
    const body: PeerBody<'/events/poll'> = { rid: String(req.rid), limit: req.limit ?? 0 };
    const { url, json } = await this.send(target, '/events/poll', (c, init) => c.POST('/events/poll', { ...init, body }));
    const result = eventsAnswer(url, json);
    this.logger.debug({ url, count: result.events.length }, 'polled events');
    return result;
  }

  async fetchRids(target: RequestTarget, req: FetchRidsRequest = {}): Promise<RidsResult> {
    const body: PeerBody<'/rids/fetch'> = { rid_types: (req.rid_types ?? []).map(String) };
    const { url, json } = await this.send(target, '/rids/fetch', (c, init) => c.POST('/rids/fetch', { ...init, body }));
    const result = ridsAnswer(url, json);
    this.logger.debug({ url, count: result.rids.length }, 'fetched rids');
    return result;
  }

  async fetchManifests(target: RequestTarget, req: FetchManifestsRequest = {}): Promise<ManifestsResult> {
    const body: PeerBody<'/manifests/fetch'> = { rid_types: (req.rid_types ?? []).map(String), rids: (req.rids ?? []).map(String) };
    const { url, json } = await this.send(target, '/manifests/fetch', (c, init) => c.POST('/manifests/fetch', { ...init, body }));
    const result = manifestsAnswer(url, json);
    this.logger.debug({ url, count: result.manifests.length, notFound: result.notFound.length }, 'fetched manifests');
    return result;
  }

  async fetchBundles(target: RequestTarget, req: FetchBundlesRequest): Promise<BundlesResult> {
    const body: PeerBody<'/bundles/fetch'> = { rids: req.rids.map(String) };
    const { url, json } = await this.send(target, '/bundles/fetch', (c, init) => c.POST('/bundles/fetch', { ...init, body }));
    const result = bundlesAnswer(url, json);
    this.logger.debug({ url, count: result.bundles.length, notFound: result.notFound.length }, 'fetched bundles');
    return result;
  }

  /** Resolves the target, makes the typed call and returns the parsed 2xx body (null when empty). */
  private async send(target: RequestTarget, path: PeerPath, call: Call): Promise<{ url: string; json: unknown }> {
    const baseUrl = await this.resolveBaseUrl(target);
    const url = endpointUrl(baseUrl, path);
    const client = this.client(baseUrl, (await this.signsTo(target)) ? this.signedTargetNode(target, url) : undefined);
    const { response } = await call(client, { parseAs: 'stream', signal: AbortSignal.timeout(this.timeoutMs) });
    return { url, json: await readAnswer(url, response) };
  }

  /**
   * Whether calls to `target` are signed envelopes (whose answers are verified): per target with a
   * peerFormat rule, else for all or none.
   */
  async signsTo(target: RequestTarget): Promise<boolean> {
    if (!this.signed) return false;
    if (!this.peerFormat) return true;
    let profile: NodeProfile | undefined;
    if (target.node !== undefined) {
      try {
        const rid = typeof target.node === 'string' ? RID.fromString(target.node) : target.node;
        if (rid instanceof KoiNetNode) profile = await this.graph.getNodeProfile(rid);
      } catch {
        profile = undefined; // an unusable RID is reported where the envelope needs it
      }
    }
    return this.peerFormat(target, profile) === 'signed';
  }

  /** The node RID a signed envelope to `target` is addressed to. */
  private signedTargetNode(target: RequestTarget, url: string): KoiNetNode {
    const given = target.node ?? ('url' in target ? this.signed?.urlNodes?.get(target.url) : undefined);
    if (given === undefined) {
      throw new UnreachableNodeError(url, 'the signed protocol needs the node RID of the target, not only its URL');
    }
    try {
      const rid = typeof given === 'string' ? RID.fromString(given) : given;
      if (rid instanceof KoiNetNode) return rid;
    } catch {
      // reported below
    }
    throw new UnreachableNodeError(String(given), 'not an orn:koi-net.node RID');
  }

  /** One client per peer URL (and, signed, per node RID: the envelopes name it). */
  private client(baseUrl: string, peer: KoiNetNode | undefined): PeerClient {
    const key = peer ? `${baseUrl} ${peer.toString()}` : baseUrl;
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= MAX_CACHED_CLIENTS) {
        const oldest = this.clients.keys().next();
        if (!oldest.done) this.clients.delete(oldest.value);
      }
      const signed = this.signed && peer ? { self: this.signed.self, keyPair: this.signed.keyPair, peer, profiles: this.graph } : undefined;
      client = createPeerClient({ baseUrl, timeoutMs: this.timeoutMs, signed });
      this.clients.set(key, client);
    }
    return client;
  }
}
