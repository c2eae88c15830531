/**
 * `koi-net/client`: a typed client for any KOI-net full node, generated from the OpenAPI contract.
 * It has no dependency on the node runtime (cache, processor, server), so any service can use it.
 *
 *   import { createKoiNetClient, fetchRids } from 'koi-net/client';
 *   const client = createKoiNetClient('http://127.0.0.1:8000/koi-net');
 *   const { data, error } = await fetchRids(client, { rid_types: ['orn:koi-net.node'] });
 */
export { createKoiNetClient, broadcastEvents, pollEvents, fetchRids, fetchManifests, fetchBundles, } from "../generated/client/client.js";
//# sourceMappingURL=client.js.map