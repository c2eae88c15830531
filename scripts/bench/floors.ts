/**
 * What the machine costs before the node does anything, measured beside the fetch_bundles rows
 * so a missed target can be read against it: the transport (one kept-alive round trip carrying an
 * answer of the same size from a server that only writes a ready buffer) and the reads (100
 * random cache files opened and read as the cache reads them, no node). The fetch_bundles
 * answer can never be faster than the transport floor, plus the read floor for bundles whose
 * text is not kept in memory.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from './http-client.ts';
import { latencyStats, seededRandom, timeIt, type LatencyStats } from './lib.ts';

/** The bare server: any POST gets `bytes` bytes of JSON, as the node's fast path sends them. */
const BARE_SERVER = `
const { createServer } = require('node:http');
const body = Buffer.alloc(Number(process.argv[1]), 0x20);
body[0] = 0x5b; body[body.length - 1] = 0x5d;
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** Round trips of a `bytes`-byte answer to a `requestBytes`-byte POST from a server doing nothing else. */
export async function transportFloor(bytes: number, requestBytes: number): Promise<LatencyStats> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    });
    const client = new HttpClient(`http://127.0.0.1:${port}/`);
    const payload = Buffer.alloc(requestBytes, 0x20);
    try {
      return latencyStats(await timeIt(20, 500, () => client.post('/x', payload)));
    } finally {
      client.close();
    }
  } finally {
    child.kill();
  }
}

/**
 * Reads every bundle file of `cacheDir` once, so the rows time a node whose files are in the OS
 * page cache, as on a node that keeps serving them. This machine's kernel drops page-cache pages
 * that went unread for some minutes (a kept 100k cache read 17.9 ms per 100 files from the disk
 * instead of 0.6 ms from memory), which made the 100k rows a disk measurement in some runs only.
 * Returns the time it took.
 */
export function warmPageCache(cacheDir: string): number {
  const t0 = performance.now();
  for (const name of readdirSync(cacheDir)) if (name.endsWith('.json')) readFileSync(join(cacheDir, name));
  return performance.now() - t0;
}

/** Reading 100 random files of `cacheDir` as the cache reads one it has not kept (sync open + read + close). */
export function readFloor(cacheDir: string): LatencyStats {
  const names = readdirSync(cacheDir).filter((n) => n.endsWith('.json'));
  const rnd = seededRandom(7);
  const samples: number[] = [];
  for (let k = 0; k < 320; k++) {
    const pick = Array.from({ length: 100 }, () => join(cacheDir, names[rnd(names.length)]!));
    const t0 = performance.now();
    for (const path of pick) readFileSync(path, 'utf8');
    if (k >= 20) samples.push(performance.now() - t0);
  }
  return latencyStats(samples);
}
