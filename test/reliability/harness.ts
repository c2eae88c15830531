/**
 * Crash harness shared by test/reliability/crash.test.ts (fast) and scripts/soak/crash-soak.ts
 * (long): a child full node gets broadcast batches from several senders, fans every event out to
 * webhook subscribers run here, and is SIGKILLed at random moments and restarted on the same data
 * dir. At the end it checks the durability promises of docs/RELIABILITY.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { cacheFileName } from '../../src/cache/file-name.ts';
import type { CrashChildConfig } from './crash-child.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const RID_TYPE = 'orn:crash.thing';

export interface CrashScenarioOptions {
  /** SIGKILLs to deliver. */
  kills: number;
  /** Random pause between a restart being ready and the next kill, ms. */
  minUpMs: number;
  maxUpMs: number;
  senders: number;
  batchSize: number;
  /** Bytes of contents per event. */
  contentBytes: number;
  /** Pause between two batches of one sender, ms. */
  senderPauseMs: number;
  subscribers: number;
  /** Share of subscriber answers that are 503 (exercises retries), 0..1. */
  flakyRate: number;
  /** How long the last node may take to drain everything, ms. */
  drainTimeoutMs: number;
  log?: (line: string) => void;
  keepDir?: boolean;
}

export interface CrashReport {
  killsSurvived: number;
  batchesAcknowledged: number;
  eventsAcknowledged: number;
  /** Acknowledged but not in the cache after the drain: must be 0. */
  eventsLost: number;
  eventsCached: number;
  cacheFiles: number;
  /** Cache files that do not parse as a bundle: must be 0. */
  corruptCacheFiles: number;
  /** Per subscriber: cached events it never received (must be 0), duplicates it received. */
  subscribers: { undelivered: number; received: number; duplicates: number; answered503: number }[];
  /** Retries the node reported at its final graceful stop (per subscriber, this last run only). */
  retriesObservedLastRun: number;
  /** Inbox entries replayed over all restarts, and re-announced events. */
  replayedEntries: number;
  reannounced: number;
  sendErrors: number;
  /** Bursts in which a per-peer event queue hit its cap and dropped its oldest events (by policy). */
  queueCapBursts: number;
  durationMs: number;
  dataDir: string;
}

interface Subscriber {
  rid: string;
  url: string;
  server: Server;
  counts: Map<string, number>;
  answered503: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const between = (min: number, max: number): number => min + Math.random() * (max - min);

// Counted across every child of one scenario run (the children share this module's process).
let queueCapBursts = 0;

export async function runCrashScenario(o: CrashScenarioOptions): Promise<CrashReport> {
  queueCapBursts = 0;
  const log = o.log ?? (() => {});
  const started = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'koi-crash-'));
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < o.subscribers; i++) subscribers.push(await startSubscriber(i, i === 0 ? o.flakyRate : 0));
  const config: CrashChildConfig = {
    dataDir,
    ridType: RID_TYPE,
    subscribers: subscribers.map((s) => ({ rid: s.rid, url: s.url })),
  };

  let child = await startChild(config);
  let url = child.url;
  let replayedEntries = 0;
  let reannounced = 0;
  const acked = new Set<string>();
  let batchesAcked = 0;
  let sendErrors = 0;
  let sending = true;
  let batchCounter = 0;
  const content = 'x'.repeat(Math.max(0, o.contentBytes - 20));

  const sender = async (id: number): Promise<void> => {
    while (sending) {
      const batch = ++batchCounter;
      const rids = Array.from({ length: o.batchSize }, (_, i) => `${RID_TYPE}:s${id}-b${batch}-e${i}`);
      const body = JSON.stringify({
        events: rids.map((rid) => Event.fromBundle(Bundle.generate(rid, { n: batch, pad: content }), EventType.NEW).toJSON()),
      });
      try {
        const res = await fetch(`${url}/events/broadcast`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) {
          batchesAcked++;
          for (const rid of rids) acked.add(rid);
        } else sendErrors++;
      } catch {
        // The node is down (being killed or restarting): this batch was never acknowledged.
        sendErrors++;
        await sleep(20);
      }
      if (o.senderPauseMs > 0) await sleep(o.senderPauseMs);
    }
  };
  const senders = Array.from({ length: o.senders }, (_, i) => sender(i));

  let kills = 0;
  while (kills < o.kills) {
    await sleep(between(o.minUpMs, o.maxUpMs));
    child.process.kill('SIGKILL');
    await child.exited;
    kills++;
    child = await startChild(config);
    url = child.url;
    replayedEntries += child.recovery.entries;
    reannounced += child.recovery.reannounced;
    log(`kill ${kills}/${o.kills}: acknowledged ${acked.size} events so far; restart replayed ${child.recovery.entries} batches, re-announced ${child.recovery.reannounced}`);
  }
  sending = false;
  await Promise.all(senders);

  // Let the last node drain its inbox and its queues: every acknowledged event cached, and every
  // cached event received by every subscriber.
  const cacheDir = join(dataDir, 'cache');
  const deadline = Date.now() + o.drainTimeoutMs;
  let missingCache = [...acked];
  let cachedThings: string[] = [];
  for (;;) {
    missingCache = missingCache.filter((rid) => !existsSync(join(cacheDir, cacheFileName(rid))));
    if (missingCache.length === 0) {
      cachedThings = await cachedRids(cacheDir);
      const undelivered = subscribers.map((s) => cachedThings.filter((rid) => !s.counts.has(rid)).length);
      if (undelivered.every((n) => n === 0)) break;
    }
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  child.process.kill('SIGTERM');
  const stopped = await child.stopped;
  await child.exited;

  // Final verification on the files, with the node stopped.
  const files = (await readdir(cacheDir)).filter((f) => f.endsWith('.json'));
  let corrupt = 0;
  const cached = new Set<string>();
  for (const f of files) {
    try {
      const bundle = Bundle.fromJSON(JSON.parse(await readFile(join(cacheDir, f), 'utf8')));
      cached.add(String(bundle.rid));
    } catch {
      corrupt++;
    }
  }
  const things = [...cached].filter((rid) => rid.startsWith(`${RID_TYPE}:`));
  const lost = [...acked].filter((rid) => !cached.has(rid)).length;
  const report: CrashReport = {
    killsSurvived: kills,
    batchesAcknowledged: batchesAcked,
    eventsAcknowledged: acked.size,
    eventsLost: lost,
    eventsCached: things.length,
    cacheFiles: files.length,
    corruptCacheFiles: corrupt,
    subscribers: subscribers.map((s) => ({
      undelivered: things.filter((rid) => !s.counts.has(rid)).length,
      received: [...s.counts.values()].reduce((a, b) => a + b, 0),
      duplicates: [...s.counts.values()].reduce((a, b) => a + (b - 1), 0),
      answered503: s.answered503,
    })),
    retriesObservedLastRun: Object.values(stopped.delivery).reduce((a, p) => a + p.retries, 0),
    replayedEntries,
    reannounced,
    sendErrors,
    queueCapBursts,
    durationMs: Date.now() - started,
    dataDir,
  };
  await Promise.all(subscribers.map((s) => new Promise<void>((r) => { s.server.closeAllConnections(); s.server.close(() => r()); })));
  if (!o.keepDir) await rm(dataDir, { recursive: true, force: true });
  return report;
}

async function cachedRids(cacheDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await readdir(cacheDir)) {
    if (!f.endsWith('.json') || f.startsWith('~')) continue;
    const rid = Buffer.from(f.slice(0, -5), 'base64url').toString('utf8');
    if (rid.startsWith(`${RID_TYPE}:`)) out.push(rid);
  }
  return out;
}

function startSubscriber(index: number, flakyRate: number): Promise<Subscriber> {
  const counts = new Map<string, number>();
  const sub = { counts, answered503: 0 } as Subscriber;
  sub.rid = `orn:koi-net.node:subscriber${index}+00000000-0000-4000-8000-${(index + 1).toString(16).padStart(12, '0')}`;
  sub.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // A subscriber only takes broadcasts; anything else (e.g. a stray request to a reused port) is a 404.
      if (req.method !== 'POST' || req.url !== '/koi-net/events/broadcast') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
        return;
      }
      if (Math.random() < flakyRate) {
        sub.answered503++;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"detail":"busy"}');
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: { rid?: string }[] };
        for (const e of body.events ?? []) if (typeof e.rid === 'string') counts.set(e.rid, (counts.get(e.rid) ?? 0) + 1);
      } catch {
        // not counted
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('null');
    });
  });
  return new Promise((resolve) => {
    sub.server.listen(0, '127.0.0.1', () => {
      sub.url = `http://127.0.0.1:${(sub.server.address() as AddressInfo).port}/koi-net`;
      resolve(sub);
    });
  });
}

interface PeerStats {
  retries: number;
}

interface RunningChild {
  process: ChildProcess;
  url: string;
  recovery: { entries: number; reannounced: number };
  exited: Promise<void>;
  stopped: Promise<{ delivery: Record<string, PeerStats> }>;
}

/** Spawns the child node and resolves once it printed its ready line. */
function startChild(config: CrashChildConfig): Promise<RunningChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'crash-child.ts'), JSON.stringify(config)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  let onStopped!: (v: { delivery: Record<string, PeerStats> }) => void;
  const stopped = new Promise<{ delivery: Record<string, PeerStats> }>((r) => (onStopped = r));
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`child not ready in 30 s: ${stderr}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let msg: { msg?: string; url?: string; recovery?: { entries: number; reannounced: number } | null; delivery?: Record<string, PeerStats> };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.msg === 'event queue full: dropping the oldest events (warned once per burst)') queueCapBursts++;
        if (msg.msg === 'ready' && msg.url) {
          clearTimeout(timer);
          resolve({ process: proc, url: msg.url, recovery: msg.recovery ?? { entries: 0, reannounced: 0 }, exited, stopped });
        } else if (msg.msg === 'stopped') {
          onStopped({ delivery: msg.delivery ?? {} });
        }
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      onStopped({ delivery: {} });
      reject(new Error(`child exited (${String(code)}) before ready: ${stderr}`));
    });
  });
}
