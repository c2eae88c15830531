import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../../generated/openapi-typescript/koi-net.ts';
import { validateSchema, NodeType } from '../protocol/index.ts';
import type { NodeProfile, RequestBody, SchemaName } from '../protocol/index.ts';
import { KoiNetNode, RID, RIDType } from '../rid/index.ts';
import { Bundle, Event, Manifest } from '../knowledge/index.ts';
import type { EventJSON } from '../knowledge/index.ts';
import {
  RemoteConnectionError,
  RemoteHTTPError,
  RemoteResponseInvalidError,
  UnreachableNodeError,
  type ValidationIssue,
} from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import {
  MalformedEnvelopeError,
  ProtocolError,
  RemoteProtocolError,
  isProtocolErrorType,
  openEnvelope,
  peekEnvelope,
  signEnvelope,
  type NodeKeyPair,
  type RequestPayload,
} from '../secure/index.ts';
import { errorText } from '../util/error-text.ts';

/**
 * Who a request goes to: a known node (resolved through the graph) or a raw base URL (`…/koi-net`).
 * In the signed protocol a URL alone is not enough (the envelope names its target node), so a URL
 * target may carry the node RID too, as the reference's first-contact config does.
 */
export type RequestTarget = { node: KoiNetNode | string } | { url: string; node?: KoiNetNode | string };

/** The signed protocol (koi-net 1.1+): who we are and how we sign. */
export interface SignedClientOptions {
  keyPair: NodeKeyPair;
  self: KoiNetNode;
  /** Node RIDs known for bare URLs (the first contact), for targets given by URL only. */
  urlNodes?: ReadonlyMap<string, KoiNetNode>;
}

/** The part of NetworkGraph the request handler needs; a narrow seam so tests can stub it. */
export interface NodeProfileSource {
  getNodeProfile(rid: KoiNetNode): NodeProfile | undefined | Promise<NodeProfile | undefined>;
}

export interface RequestHandlerOptions {
  graph: NodeProfileSource;
  logger?: Logger;
  /** Per request, connect through last body byte. Default 10 s. */
  timeoutMs?: number | undefined;
  /** Speak the signed protocol; absent = unsigned 1.0.x. */
  signed?: SignedClientOptions | undefined;
}

export interface BroadcastEventsRequest {
  events: readonly (Event | EventJSON)[];
}
export interface PollEventsRequest {
  rid: KoiNetNode | RID | string;
  limit?: number;
}
export interface FetchRidsRequest {
  rid_types?: readonly (RIDType | string)[];
}
export interface FetchManifestsRequest {
  rid_types?: readonly (RIDType | string)[];
  rids?: readonly (RID | string)[];
}
export interface FetchBundlesRequest {
  rids: readonly (RID | string)[];
}

export interface EventsResult {
  events: Event[];
}
export interface RidsResult {
  rids: RID[];
}
export interface ManifestsResult {
  manifests: Manifest[];
  notFound: RID[];
}
export interface BundlesResult {
  bundles: Bundle[];
  notFound: RID[];
  deferred: RID[];
}

/** What every call passes to the client besides the body. */
interface CallInit {
  parseAs: 'text';
  headers: { 'Content-Type': 'application/json' };
  signal: AbortSignal;
}
/** The part of openapi-fetch's result this handler reads. */
interface RawResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}
type KoiNetClient = Client<paths, 'application/json'>;
type Call = (client: KoiNetClient, init: CallInit) => Promise<RawResult>;

/** Clients are cheap but not free; a node talks to a handful of peers, so a small cap is plenty. */
const MAX_CACHED_CLIENTS = 256;

/**
 * Makes the five KOI-net requests to other nodes over the generated, typed client. Every failure
 * surfaces as one of four error classes, so callers (network interface, poller) can decide
 * retry-or-drop by class alone: UnreachableNodeError (we should not even try), RemoteConnectionError
 * (transport or timeout: retryable), RemoteHTTPError (peer answered non-2xx), and
 * RemoteResponseInvalidError (peer answered 2xx with a body that breaks the contract).
 */
export class RequestHandler {
  readonly timeoutMs: number;
  private readonly graph: NodeProfileSource;
  private readonly logger: Logger;
  private readonly clients = new Map<string, KoiNetClient>();
  private readonly signed: SignedClientOptions | undefined;

  constructor(options: RequestHandlerOptions) {
    this.graph = options.graph;
    this.signed = options.signed;
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
    const body: RequestBody<'broadcastEvents'> = { events: req.events.map((e) => (e instanceof Event ? e.toJSON() : e)) };
    if (this.signed) {
      const { url } = await this.postSigned(target, '/events/broadcast', { type: 'events_payload', events: body.events });
      this.logger.debug({ url, count: body.events.length }, 'broadcast events');
      return;
    }
    // The reference answers `null`; other peers send `{}` or nothing. Nothing in it matters, so a
    // 2xx is success whatever the body says (be liberal in what you accept).
    const { url } = await this.post(target, '/events/broadcast', (c, init) => c.POST('/events/broadcast', { ...init, body }));
    this.logger.debug({ url, count: body.events.length }, 'broadcast events');
  }

  async pollEvents(target: RequestTarget, req: PollEventsRequest): Promise<EventsResult> {
    // limit is always sent (0 = no limit), as the reference's client does.
    const body: RequestBody<'pollEvents'> = { rid: String(req.rid), limit: req.limit ?? 0 };
    // Signed: no `rid`, the envelope's source_node says who polls.
    const { url, json } = this.signed
      ? await this.postSigned(target, '/events/poll', { type: 'poll_events', limit: body.limit ?? 0 })
      : await this.post(target, '/events/poll', (c, init) => c.POST('/events/poll', { ...init, body }));
    const events = parseResponse(url, 'EventsPayload', json, (v) => listOf(v, 'events').map((e) => Event.fromJSON(e)));
    this.logger.debug({ url, count: events.length }, 'polled events');
    return { events };
  }

  async fetchRids(target: RequestTarget, req: FetchRidsRequest = {}): Promise<RidsResult> {
    const body: RequestBody<'fetchRids'> = { rid_types: (req.rid_types ?? []).map(String) };
    const { url, json } = this.signed
      ? await this.postSigned(target, '/rids/fetch', { type: 'fetch_rids', rid_types: body.rid_types ?? [] })
      : await this.post(target, '/rids/fetch', (c, init) => c.POST('/rids/fetch', { ...init, body }));
    const rids = parseResponse(url, 'RidsPayload', json, (v) => listOf(v, 'rids').map(parseRid));
    this.logger.debug({ url, count: rids.length }, 'fetched rids');
    return { rids };
  }

  async fetchManifests(target: RequestTarget, req: FetchManifestsRequest = {}): Promise<ManifestsResult> {
    const body: RequestBody<'fetchManifests'> = { rid_types: (req.rid_types ?? []).map(String), rids: (req.rids ?? []).map(String) };
    const { url, json } = this.signed
      ? await this.postSigned(target, '/manifests/fetch', { type: 'fetch_manifests', rid_types: body.rid_types ?? [], rids: body.rids ?? [] })
      : await this.post(target, '/manifests/fetch', (c, init) => c.POST('/manifests/fetch', { ...init, body }));
    const result = parseResponse(url, 'ManifestsPayload', json, (v) => ({
      manifests: listOf(v, 'manifests').map((m) => Manifest.fromJSON(m)),
      notFound: listOf(v, 'not_found').map(parseRid),
    }));
    this.logger.debug({ url, count: result.manifests.length, notFound: result.notFound.length }, 'fetched manifests');
    return result;
  }

  async fetchBundles(target: RequestTarget, req: FetchBundlesRequest): Promise<BundlesResult> {
    const body: RequestBody<'fetchBundles'> = { rids: req.rids.map(String) };
    const { url, json } = this.signed
      ? await this.postSigned(target, '/bundles/fetch', { type: 'fetch_bundles', rids: body.rids })
      : await this.post(target, '/bundles/fetch', (c, init) => c.POST('/bundles/fetch', { ...init, body }));
    const result = parseResponse(url, 'BundlesPayload', json, (v) => ({
      // 1.0.0b6 peers put the bundles under `manifests` (an upstream bug fixed in 1.0.0b8).
      bundles: listOf(v, Array.isArray(field(v, 'bundles')) ? 'bundles' : 'manifests').map((b) => Bundle.fromJSON(b)),
      notFound: listOf(v, 'not_found').map(parseRid),
      deferred: listOf(v, 'deferred').map(parseRid),
    }));
    this.logger.debug({ url, count: result.bundles.length, notFound: result.notFound.length }, 'fetched bundles');
    return result;
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

  /**
   * Signed protocol: POSTs the payload as an envelope to the target node and returns the verified
   * answer's payload (null for broadcasts, which answer nothing). A 400 error_response becomes
   * RemoteProtocolError; an answer that does not verify is a contract break by the peer.
   */
  private async postSigned(target: RequestTarget, path: string, payload: RequestPayload): Promise<{ url: string; json: unknown }> {
    const signed = this.signed!;
    const baseUrl = await this.resolveBaseUrl(target);
    const url = baseUrl.replace(/\/+$/, '') + path;
    const peer = this.signedTargetNode(target, url);
    const body = signEnvelope(payload, { sourceNode: signed.self, targetNode: peer, keyPair: signed.keyPair });
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new RemoteConnectionError(url, describeFetchFailure(err, this.timeoutMs), { cause: err });
    }
    if (status === 400) {
      const kind = errorResponseKind(text);
      if (kind !== undefined) throw new RemoteProtocolError(url, kind);
    }
    if (status < 200 || status >= 300) throw new RemoteHTTPError(url, status, parseOrText(text));
    if (path === '/events/broadcast' || text.trim() === '' || text.trim() === 'null') return { url, json: null };
    try {
      // The profile source may be async; look the sender up before the (synchronous) verification.
      const sender = peekEnvelope(text).sourceNode;
      const known = profileKey(await this.graph.getNodeProfile(sender));
      const env = openEnvelope(text, {
        self: signed.self,
        lookup: () => known,
        // A first contact answers our poll with its own NEW event before we know it.
        allowSelfIntroduction: true,
      });
      if (env.sourceNode.toString() !== peer.toString()) {
        throw new MalformedEnvelopeError(`answer signed by ${env.sourceNode.toString()}, not by ${peer.toString()}`);
      }
      return { url, json: env.payload };
    } catch (err) {
      if (err instanceof ProtocolError || err instanceof MalformedEnvelopeError) {
        throw new RemoteResponseInvalidError(url, [{ loc: [], msg: err.message, type: err.code }]);
      }
      throw err;
    }
  }

  private client(baseUrl: string): KoiNetClient {
    let client = this.clients.get(baseUrl);
    if (!client) {
      if (this.clients.size >= MAX_CACHED_CLIENTS) {
        const oldest = this.clients.keys().next();
        if (!oldest.done) this.clients.delete(oldest.value);
      }
      client = createClient<paths>({ baseUrl });
      this.clients.set(baseUrl, client);
    }
    return client;
  }

  /**
   * POSTs JSON and returns the parsed 2xx body. The body is read as text and parsed here (not by
   * openapi-fetch) so that a non-JSON answer becomes RemoteResponseInvalidError instead of a bare
   * SyntaxError, and so the timeout covers reading the body as well as connecting.
   */
  private async post(target: RequestTarget, path: string, call: Call): Promise<{ url: string; json: unknown }> {
    const baseUrl = await this.resolveBaseUrl(target);
    const url = baseUrl.replace(/\/+$/, '') + path;
    const client = this.client(baseUrl);
    let status: number;
    let ok: boolean;
    let text: string | undefined;
    let errorBody: unknown;
    try {
      const result = await call(client, {
        parseAs: 'text',
        headers: { 'Content-Type': 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = result.response.status;
      ok = result.response.ok;
      text = typeof result.data === 'string' ? result.data : undefined;
      errorBody = result.error;
    } catch (err) {
      throw new RemoteConnectionError(url, describeFetchFailure(err, this.timeoutMs), { cause: err });
    }
    if (!ok) throw new RemoteHTTPError(url, status, errorBody);
    if (text === undefined || text.trim() === '') return { url, json: null };
    try {
      return { url, json: JSON.parse(text) as unknown };
    } catch {
      throw new RemoteResponseInvalidError(url, [
        { loc: [], msg: 'response body is not JSON', type: 'json_invalid', input: text.slice(0, 200) },
      ]);
    }
  }
}

/**
 * Validates against the contract's schema, then builds the knowledge classes. The class parsers
 * apply rules the schema cannot (RID registry, event types), so their errors are contract breaks
 * by the peer too and get the same error class.
 */
function parseResponse<T>(url: string, schema: SchemaName, json: unknown, build: (value: unknown) => T): T {
  const issues = validateSchema(schema, json);
  if (issues.length > 0) throw new RemoteResponseInvalidError(url, issues);
  try {
    return build(json);
  } catch (err) {
    const issue: ValidationIssue = { loc: [], msg: errorText(err), type: 'value_error' };
    throw new RemoteResponseInvalidError(url, [issue]);
  }
}

function profileKey(profile: NodeProfile | undefined): { known: boolean; publicKeyDerB64: string | undefined } {
  if (!profile) return { known: false, publicKeyDerB64: undefined };
  const key = profile.public_key;
  return { known: true, publicKeyDerB64: typeof key === 'string' ? key : undefined };
}

/** The `error` of a `{"type":"error_response",...}` body; undefined for any other 400. */
function errorResponseKind(text: string): ProtocolError['errorType'] | undefined {
  const body = parseOrText(text);
  const error = field(body, 'error');
  return field(body, 'type') === 'error_response' && isProtocolErrorType(error) ? error : undefined;
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** A list field of a validated payload; absent optional lists (`not_found`, `deferred`) read as empty. */
function listOf(value: unknown, key: string): unknown[] {
  const list = field(value, key);
  return Array.isArray(list) ? list : [];
}

function parseRid(value: unknown): RID {
  return RID.fromString(String(value));
}

/** undici hides the useful part (ECONNREFUSED, ...) in `cause`; surface it in the message. */
function describeFetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}
