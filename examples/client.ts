/**
 * Talking to a running full node with `koi-net/client` alone: no cache, no processor, no server.
 * Lists what the node holds, then reads its node and edge bundles.
 *
 *   npx tsx examples/client.ts [BASE_URL]      (default http://127.0.0.1:8000/koi-net)
 *
 * Start a node first, e.g. `npx tsx examples/basic_coordinator_node.ts`.
 * In a project that depends on this package, import from 'koi-net/client' instead of the path.
 */
import { createKoiNetClient, fetchBundles, fetchManifests, fetchRids } from '../src/client.ts';

const baseUrl = process.argv[2] ?? process.env['KOI_NET_URL'] ?? 'http://127.0.0.1:8000/koi-net';
const client = createKoiNetClient(baseUrl);

/** Calls return `{ data, error, response }` rather than throwing on HTTP errors; make that loud. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) {
    throw new Error(`${what} failed: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

try {
  const { rids } = ok(await fetchRids(client, { rid_types: [] }), 'fetch rids');
  console.log(`${baseUrl} holds ${rids.length} RID(s):`);
  for (const rid of rids) console.log(`  ${rid}`);

  const { manifests } = ok(await fetchManifests(client, { rid_types: ['orn:koi-net.node'], rids: [] }), 'fetch manifests');
  console.log(`\nnode manifests:`);
  for (const m of manifests) console.log(`  ${m.rid}  ${m.timestamp}  ${m.sha256_hash.slice(0, 12)}…`);

  const wanted = rids.filter((r) => r.startsWith('orn:koi-net.node:') || r.startsWith('orn:koi-net.edge:'));
  const payload = ok(await fetchBundles(client, { rids: wanted }), 'fetch bundles');
  console.log(`\nnodes and edges:`);
  // 1.0.0b6 nodes name the list `manifests` (an upstream bug); read either.
  for (const bundle of payload.bundles ?? payload.manifests ?? []) {
    const c = bundle.contents;
    if (bundle.manifest.rid.startsWith('orn:koi-net.edge:')) {
      console.log(`  edge ${String(c['source'])} -> ${String(c['target'])}  ${String(c['edge_type'])} ${String(c['status'])}`);
    } else {
      console.log(`  node ${bundle.manifest.rid}  ${String(c['node_type'])}  ${String(c['base_url'] ?? '(no server)')}`);
    }
  }
  if (payload.not_found.length > 0) console.log(`  not found: ${payload.not_found.join(', ')}`);
} catch (err) {
  // A refused connection surfaces as a TypeError from fetch; say what to do about it.
  console.error(`could not query ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`);
  console.error('is a node running there? try: npx tsx examples/basic_coordinator_node.ts');
  process.exitCode = 1;
}
