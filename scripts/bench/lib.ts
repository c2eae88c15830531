/** Shared helpers of the benchmark: statistics, child nodes, HTTP, cache files. */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bundle, type BundleJSON } from '../../src/knowledge/index.ts';
import { cacheFileName } from '../../src/cache/file-name.ts';
import type { WorkerConfig, WorkerReply, WorkerRequest } from './protocol.ts';

export const BENCH_RID_TYPE = 'orn:bench.doc';

export interface LatencyStats {
  n: number;
  medianMs: number;
  p99Ms: number;
}

export function latencyStats(samples: number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { n: sorted.length, medianMs: round(at(0.5)), p99Ms: round(at(0.99)) };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A free port on 127.0.0.1; the start-up scenario must know it before the child binds it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** ~`bytes` of JSON contents, different per index so every bundle hashes differently. */
export function benchContents(i: number, bytes = 1000): Record<string, unknown> {
  const filler = 'x'.repeat(Math.max(0, bytes - 120));
  return { title: `bench document ${i}`, index: i, body: filler, tags: ['bench', `g${i % 17}`] };
}

export function benchBundle(i: number, prefix = 'doc', bytes = 1000): Bundle {
  return Bundle.generate(`${BENCH_RID_TYPE}:${prefix}-${i}`, benchContents(i, bytes) as Bundle['contents']);
}

/**
 * Writes `count` bundle files straight into `<dataDir>/cache`, in the cache's own file layout,
 * skipping the network and the atomic-rename path: building a 100k cache through the node would
 * take minutes and measure something else.
 */
export function writeCacheFiles(dataDir: string, count: number, bytes = 1000): void {
  const dir = join(dataDir, 'cache');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const bundle = benchBundle(i, 'state', bytes);
    writeFileSync(join(dir, cacheFileName(bundle.rid)), JSON.stringify(bundle.toJSON(), null, 2));
  }
}

export function writeBundleFiles(dataDir: string, bundles: readonly Bundle[]): void {
  const dir = join(dataDir, 'cache');
  mkdirSync(dir, { recursive: true });
  for (const bundle of bundles) writeFileSync(join(dir, cacheFileName(bundle.rid)), JSON.stringify(bundle.toJSON(), null, 2));
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** A full node running worker.ts in a child process. */
export class ChildNode {
  url = '';
  rid = '';
  readonly spawnedAt: number;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: WorkerReply) => void>();
  readonly ready: Promise<void>;
  private exited = false;

  private constructor(readonly child: ChildProcess) {
    this.spawnedAt = performance.now();
    this.ready = new Promise((resolve, reject) => {
      child.once('exit', (code) => {
        this.exited = true;
        reject(new Error(`bench node exited with ${code}`));
      });
      child.on('message', (raw: unknown) => {
        const msg = raw as WorkerReply;
        if (msg.op === 'ready') {
          this.url = msg.url;
          this.rid = msg.rid;
          resolve();
          return;
        }
        const done = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        done?.(msg);
      });
    });
    this.ready.catch(() => undefined);
  }

  static spawn(config: WorkerConfig, nodeFlags: readonly string[] = []): ChildNode {
    // tsx as a loader of a plain node, so `--cpu-prof` etc. can be added (--profile, BENCH_NODE_FLAGS).
    const extra = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const child = fork(WORKER, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx', ...nodeFlags, ...extra],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildNode(child);
  }

  request(req: Omit<WorkerRequest, 'id'>): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => (r.op === 'error' ? reject(new Error(r.message)) : resolve(r)));
      this.child.send({ ...req, id } as WorkerRequest);
    });
  }

  async stats(): Promise<Extract<WorkerReply, { op: 'stats' }>> {
    const r = await this.request({ op: 'stats' });
    if (r.op !== 'stats') throw new Error(`unexpected reply ${r.op}`);
    return r;
  }

  /** The cache counts alone (cheap for the node: for polls while it is timed). */
  async progress(): Promise<{ cacheSize: number; cachePendingWrites: number }> {
    const r = await this.request({ op: 'progress' });
    if (r.op !== 'progress') throw new Error(`unexpected reply ${r.op}`);
    return r;
  }

  async handle(bundles: BundleJSON[]): Promise<void> {
    await this.request({ op: 'handle', bundles } as Omit<WorkerRequest, 'id'>);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((res) => this.child.once('exit', () => res()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      await this.request({ op: 'stop' });
    } catch {
      // The child may exit before answering; the exit is what we wait for.
    }
    await exited;
    clearTimeout(timer);
  }
}

/** POST JSON to `<base>/<path>`; throws on a non-2xx answer. */
export async function postJson<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Runs `fn` `iterations` times after `warmup` untimed runs; latencies in ms. */
export async function timeIt(warmup: number, iterations: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

/**
 * A seeded 32-bit generator (mulberry32), so every run picks the same RIDs and edges. Plain
 * float LCG arithmetic loses precision past 2^53 and fell into a short cycle.
 */
export function seededRandom(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// --- HTTP ---------------------------------------------------------------------------------------

export { HttpClient } from './http-client.ts';

// --- the package's command ---------------------------------------------------------------------

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(PACKAGE_ROOT, 'bin', 'koi-net.js');

/** Newest modification time under `dir` (recursive), 0 when it does not exist. */
function newestMtime(dir: string): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * `npm run build` when dist/ is missing or older than src/, generated/ or the bundle script, so the
 * start-up rows time the compiled package a user installs, never stale code.
 */
export function ensureBuilt(log: (msg: string) => void): void {
  // Both outputs of the build: the library (dist/src/) and the command's bundle made from it
  // (dist/cli/, which bin/koi-net.js runs); the bundle is written last.
  const builtAt = Math.min(...[join('dist', 'src', 'cli.js'), join('dist', 'cli', 'cli.js')].map((f) => {
    const path = join(PACKAGE_ROOT, f);
    return existsSync(path) ? statSync(path).mtimeMs : 0;
  }));
  const bundler = join(PACKAGE_ROOT, 'scripts', 'bundle-cli.ts');
  const sourcesAt = Math.max(newestMtime(join(PACKAGE_ROOT, 'src')), newestMtime(join(PACKAGE_ROOT, 'generated')), existsSync(bundler) ? statSync(bundler).mtimeMs : 0);
  if (builtAt >= sourcesAt) return;
  log('  dist/ (library or CLI bundle) is missing or older than src/: npm run build');
  const t0 = performance.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`  built in ${round(performance.now() - t0, 0)} ms`);
}

/** Resident and peak resident set of a live process, from /proc (Linux); undefined elsewhere. */
export function procMemory(pid: number): { rss: number; peakRss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a live process has used so far, from /proc (Linux), in ms; undefined
 * elsewhere. On a loaded machine the wall clock of a start-up swings with the neighbours' load,
 * its CPU time much less.
 */
export function procCpuMs(pid: number, mainThreadOnly = false): number | undefined {
  try {
    // The main thread is the task whose id is the process id; without it, all threads together.
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Per thread of a live process (Linux /proc): CPU used and time spent runnable but waiting for a CPU, in ms, and its nice value. */
export interface ThreadTimes {
  cpuMs: number;
  waitMs: number;
  nice: number;
}

export function threadTimes(pid: number): Map<number, ThreadTimes> {
  const out = new Map<number, ThreadTimes>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      // schedstat: time on a CPU (ns), time waiting on a run queue (ns), time slices.
      const [onCpu, waiting] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      out.set(Number(tid), { cpuMs: onCpu! / 1e6, waitMs: waiting! / 1e6, nice });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * What each thread used between two threadTimes readings of process `pid`, busiest first, as
 * "main cpu/wait" then "tid cpu/wait" (Node leaves its threads unnamed; the main thread's id is the pid).
 */
export function threadTimesDelta(pid: number, before: Map<number, ThreadTimes>, after: Map<number, ThreadTimes>): string {
  const rows: { label: string; cpuMs: number; waitMs: number }[] = [];
  for (const [tid, a] of after) {
    const b = before.get(tid);
    rows.push({ label: (tid === pid ? 'main' : `t${tid}`) + (a.nice !== 0 ? ` (nice ${a.nice})` : ''), cpuMs: a.cpuMs - (b?.cpuMs ?? 0), waitMs: a.waitMs - (b?.waitMs ?? 0) });
  }
  return rows
    .filter((r) => r.cpuMs >= 5 || r.waitMs >= 5)
    .sort((x, y) => y.cpuMs - x.cpuMs)
    .map((r) => `${r.label} ${Math.round(r.cpuMs)}/${Math.round(r.waitMs)}`)
    .join(', ');
}

/**
 * The `url` of the first "node started" line `koi-net start` logs (JSON lines) on `stdout`; never
 * resolves when there is none (the caller watches the process's exit).
 */
export function startedUrl(stdout: Readable): Promise<string> {
  return new Promise((resolve) => {
    let buffered = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('node started')) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if (rec.msg === 'node started' && rec.url) resolve(rec.url);
        } catch {
          // Not a JSON log line.
        }
      }
      // Keep only an unfinished line; the rest is the node's ordinary logging.
      if (buffered.length > 1 << 20) buffered = '';
    });
  });
}

/**
 * `node bin/koi-net.js start ...` exactly as a user runs the installed command (plain node over
 * dist/, no tsx, no npx), with `--port 0`: the URL is read back from its "node started" line.
 */
export class BinNode {
  readonly spawnedAt = performance.now();
  /** Resolves with the URL once the node logged "node started". */
  readonly started: Promise<string>;
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.started = new Promise((resolve, reject) => {
      void startedUrl(child.stdout!).then(resolve);
      void this.exited.then((code) => reject(new Error(`koi-net start exited with ${code} before it started`)));
    });
    this.started.catch(() => undefined);
  }

  static spawn(args: readonly string[], nodeFlags: readonly string[] = []): BinNode {
    const child = spawn(process.execPath, [...nodeFlags, BIN, ...args], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    return new BinNode(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM: the node's clean shutdown (syncs the cache, writes the index snapshot). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: a crash, nothing flushed. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
