/**
 * The ingest load generator: bodies serialized before the clock starts, sent by `clients`
 * kept-alive connections of the bench's lean client (http-client.ts), each taking the next body
 * once its last one was answered. The node sees the same requests as from fetch(); the generator,
 * which shares the two cores with the node, spends a fraction of fetch's CPU per request
 * (ingest-probe.ts: 3.7-7 vs 24-32 µs per event).
 */
import { HttpClient } from './http-client.ts';

/**
 * POSTs every body to `path` over `clients` connections; each request's latency in ms (first byte
 * written to the answer read), in completion order.
 */
export async function postAll(base: string, path: string, bodies: readonly Buffer[], clients: number): Promise<number[]> {
  // A client of its own per run: the node closes connections left idle past its keep-alive timeout.
  const client = new HttpClient(base, clients);
  const latencies: number[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const t0 = performance.now();
          await client.post(path, body);
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    client.close();
  }
  return latencies;
}
