import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../../generated/openapi-typescript/koi-net.ts';
import type { KoiNetNode } from '../rid/index.ts';
import type { NodeKeyPair } from '../secure/index.ts';
import { signedEnvelope } from './envelope.ts';
import { errorMapping } from './error-mapping.ts';
import { nodeHttpFetch } from './http-fetch.ts';
import type { NodeProfileSource } from './types.ts';

/** The five KOI-net endpoints a node calls on its peers. */
export type PeerPath = '/events/broadcast' | '/events/poll' | '/rids/fetch' | '/manifests/fetch' | '/bundles/fetch';

/** The JSON body of a call, as the contract types it. */
export type PeerBody<P extends PeerPath> = paths[P]['post'] extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : never;

/** openapi-fetch's typed client over the contract's paths. */
export type PeerClient = Client<paths, 'application/json'>;

export interface PeerClientOptions {
  /** The peer's KOI-net API URL, e.g. `http://host:8000/koi-net`. */
  baseUrl: string;
  timeoutMs: number;
  /** Present in the signed protocol: how we sign, and the node the envelopes are addressed to. */
  signed?: { self: KoiNetNode; keyPair: NodeKeyPair; peer: KoiNetNode; profiles: NodeProfileSource } | undefined;
}

/**
 * A typed client for one peer. Middleware order (openapi-fetch runs onRequest first to last,
 * onResponse and onError last to first): signed envelope (signed mode only), then error mapping,
 * so a request is signed just before it leaves and an answer is mapped (non-2xx, transport
 * failures) and buffered before its envelope is verified.
 */
export function createPeerClient(options: PeerClientOptions): PeerClient {
  const { baseUrl, timeoutMs, signed } = options;
  const client = createClient<paths>({ baseUrl, fetch: nodeHttpFetch });
  if (signed) client.use(signedEnvelope({ baseUrl, ...signed }));
  client.use(errorMapping({ baseUrl, timeoutMs, protocolErrors: signed !== undefined }));
  return client;
}
