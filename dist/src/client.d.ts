/**
 * `koi-net/client`: a typed client for any KOI-net full node, generated from the OpenAPI contract.
 * It has no dependency on the node runtime (cache, processor, server), so any service can use it.
 *
 *   import { createKoiNetClient, fetchRids } from 'koi-net/client';
 *   const client = createKoiNetClient('http://127.0.0.1:8000/koi-net');
 *   const { data, error } = await fetchRids(client, { rid_types: ['orn:koi-net.node'] });
 */
export { createKoiNetClient, broadcastEvents, pollEvents, fetchRids, fetchManifests, fetchBundles, type KoiNetClient, type KoiNetCallOptions, } from '../generated/client/client.ts';
export type { paths, components, operations } from '../generated/openapi-typescript/koi-net.ts';
export type { RequestBody, ResponseBody, OperationId } from '../generated/stubs/operations.ts';
