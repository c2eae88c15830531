/**
 * `koi-net/client`: a typed client for any KOI-net full node, generated from the OpenAPI contract
 * (the SDK and its fetch client by @hey-api/openapi-ts, bundled into generated/hey-api/, so it
 * needs no runtime dependency). It has no dependency on the node runtime (cache, processor,
 * server), so any service can use it.
 *
 *   import { createKoiNetClient, fetchRids } from 'koi-net/client';
 *   const client = createKoiNetClient('http://127.0.0.1:8000/koi-net');
 *   const { data, error } = await fetchRids(client, { rid_types: ['orn:koi-net.node'] });
 *
 * HTTP errors come back as `{ error, response }` (the parsed 4xx/5xx body); a failed connection
 * rejects, as it always did here.
 */
import { createClient, type Client, type Config } from '../generated/hey-api/client/index.ts';
import * as sdk from '../generated/hey-api/sdk.gen.ts';
import type { Options } from '../generated/hey-api/sdk.gen.ts';
import type {
  BroadcastEventsData,
  BroadcastEventsError,
  FetchBundlesData,
  FetchBundlesError,
  FetchManifestsData,
  FetchManifestsError,
  FetchRidsData,
  FetchRidsError,
  PollEventsData,
  PollEventsError,
} from '../generated/hey-api/types.gen.ts';
import type { OperationId, ResponseBody } from '../generated/stubs/operations.ts';

export type KoiNetClient = Client;
/** Client settings other than the base URL (headers, fetch, interceptors are on the client). */
export type KoiNetClientOptions = Omit<Config, 'baseUrl'>;
/** Per-call options other than the body (headers, signal, ...). */
export type KoiNetCallOptions = Omit<Options, 'body' | 'client' | 'path' | 'query' | 'url' | 'throwOnError' | 'responseStyle'>;

/**
 * What a call resolves to. `data` is typed as the contract's answer with its defaults filled in
 * (`not_found: []`, ...), which every conforming node sends; the body is not validated here.
 */
export type KoiNetResult<Op extends OperationId, E> = (
  | { data: ResponseBody<Op>; error: undefined }
  | { data: undefined; error: E }
) & { request: Request; response: Response };

/** A typed client for one node; `baseUrl` is its KOI-net API URL, e.g. `http://host:8000/koi-net`. */
export function createKoiNetClient(baseUrl: string, options: KoiNetClientOptions = {}): KoiNetClient {
  return createClient({ ...options, baseUrl });
}

/**
 * hey-api answers a failed connection with `{ error }` and no response; callers of this client
 * have always seen it as a rejection (fetch's TypeError), which is kept.
 */
async function settle<T extends { response?: Response | undefined; error?: unknown }>(call: Promise<T>): Promise<T> {
  const result = await call;
  if (result.response === undefined) throw result.error;
  return result;
}

/** Broadcast events to this node (webhook delivery) */
export function broadcastEvents(client: KoiNetClient, body: BroadcastEventsData['body'], options: KoiNetCallOptions = {}) {
  return settle(sdk.broadcastEvents({ ...options, client, body })) as Promise<KoiNetResult<'broadcastEvents', BroadcastEventsError>>;
}

/** Drain the caller's poll queue */
export function pollEvents(client: KoiNetClient, body: PollEventsData['body'], options: KoiNetCallOptions = {}) {
  return settle(sdk.pollEvents({ ...options, client, body })) as Promise<KoiNetResult<'pollEvents', PollEventsError>>;
}

/** List the RIDs this node holds, optionally of some types */
export function fetchRids(client: KoiNetClient, body: FetchRidsData['body'], options: KoiNetCallOptions = {}) {
  return settle(sdk.fetchRids({ ...options, client, body })) as Promise<KoiNetResult<'fetchRids', FetchRidsError>>;
}

/** Manifests of the given RIDs, or of every RID of the given types */
export function fetchManifests(client: KoiNetClient, body: FetchManifestsData['body'], options: KoiNetCallOptions = {}) {
  return settle(sdk.fetchManifests({ ...options, client, body })) as Promise<KoiNetResult<'fetchManifests', FetchManifestsError>>;
}

/** Bundles of the given RIDs */
export function fetchBundles(client: KoiNetClient, body: FetchBundlesData['body'], options: KoiNetCallOptions = {}) {
  return settle(sdk.fetchBundles({ ...options, client, body })) as Promise<KoiNetResult<'fetchBundles', FetchBundlesError>>;
}

export type { paths, components, operations } from '../generated/openapi-typescript/koi-net.ts';
export type { RequestBody, ResponseBody, OperationId } from '../generated/stubs/operations.ts';
