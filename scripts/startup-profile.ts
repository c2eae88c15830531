/**
 * What `koi-net start` spends its CPU on before its first answer: the package's command
 * (`node bin/koi-net.js start`, run `npm run build` first) over a settled data dir, under
 * `node --cpu-prof`, with the profile cut at the moment the first fetch_rids was answered (the
 * bench's `--profile` covers a node's whole life). `--crash` (default): first a run that adds one
 * bundle and is SIGKILLed, so no index snapshot vouches for the files, as the bench's "after a
 * crash" row; `--clean`: after a clean stop. Each profiled run ends with SIGTERM (a clean stop, so
 * the data dir is settled again). Prints self time by function and by file, and inclusive time.
 *
 *   npx tsx scripts/startup-profile.ts --data-dir DIR [--runs N] [--clean] [--top N] [--out DIR]
 *   e.g. --data-dir /tmp/koi-bench-XXXX/state-100000 (a copy: the runs write into it)
 *
 * The cut: V8 stamps samples with its monotonic clock, which on Linux is CLOCK_MONOTONIC, as is
 * process.hrtime here, so the answer's moment is taken in this process and compared directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bundle, Event, EventType } from '../src/knowledge/index.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    runs: { type: 'string', default: '1' },
    clean: { type: 'boolean', default: false },
    top: { type: 'string', default: '20' },
    out: { type: 'string', default: join(tmpdir(), 'koi-startup-profile') },
  },
});
if (!values['data-dir']) {
  process.stderr.write('usage: startup-profile.ts --data-dir DIR [--runs N] [--clean] [--top N] [--out DIR]\n');
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'koi-net.js');
const DATA = values['data-dir'];
const TOP = Number(values.top);

interface Started {
  child: ChildProcess;
  url: string;
  spawnedAt: bigint;
  closed: Promise<unknown>;
}

async function start(nodeArgs: string[]): Promise<Started> {
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'start', '--data-dir', DATA, '--host', '127.0.0.1', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise((resolve) => child.on('close', resolve));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"node started"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void closed.then(() => reject(new Error(`koi-net exited before it started:\n${out}`)));
  });
  return { child, url, spawnedAt, closed };
}

async function post(url: string, body: unknown): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.text();
}

/** A run that changes the cache (one NEW bundle, waited for until served) and is SIGKILLed. */
async function crash(): Promise<void> {
  const node = await start([]);
  const bundle = Bundle.generate(`orn:startup-profile.doc:${Date.now()}`, { at: Date.now() });
  await post(`${node.url}/events/broadcast`, { events: [Event.fromBundle(bundle, EventType.NEW).toJSON()] });
  for (;;) {
    const answer = JSON.parse(await post(`${node.url}/bundles/fetch`, { rids: [bundle.rid.toString()] })) as { bundles: unknown[] };
    if (answer.bundles.length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  node.child.kill('SIGKILL');
  await node.closed;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The file of a frame, shortened: dist/..., a package's name, node:..., or (native). */
function frameFile(node: ProfileNode): string {
  const { url } = node.callFrame;
  if (!url) return '(native)';
  return url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*/, '$1');
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}${url ? ` ${frameFile(node)}:${lineNumber + 1}` : ''}`;
}

function ranked(m: Map<string, number>): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([k, us]) => `    ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`)
    .join('\n');
}

/** Self and inclusive time of the samples up to `cutUs` (a CLOCK_MONOTONIC time in µs). */
function summarize(profile: CpuProfile, cutUs: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let at = profile.startTime;
  let sampled = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at > cutUs) break;
    const node = byId.get(profile.samples[i]!)!;
    sampled += us;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + us);
    const file = frameFile(node);
    files.set(file, (files.get(file) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = frameName(byId.get(id)!);
      if (seen.has(frame) || frame.startsWith('(root)')) continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + us);
    }
  }
  return [
    `  sampled ${(sampled / 1000).toFixed(0)} ms up to the answer (idle ${(idle / 1000).toFixed(0)} ms)`,
    '  self time by function:',
    ranked(self),
    '  self time by file / package:',
    ranked(files),
    '  inclusive time:',
    ranked(inclusive),
  ].join('\n');
}

for (let run = 1; run <= Number(values.runs); run++) {
  if (!values.clean) await crash();
  const dir = join(values.out, `run-${run}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const node = await start(['--cpu-prof', '--cpu-prof-dir', dir]);
  await post(`${node.url}/rids/fetch`, { rid_types: ['orn:koi-net.node'] });
  const answeredAt = process.hrtime.bigint();
  node.child.kill('SIGTERM');
  await node.closed;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no profile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  console.log(`run ${run} (${values.clean ? 'after a clean stop' : 'after a SIGKILL'}): first answer ${(Number(answeredAt - node.spawnedAt) / 1e6).toFixed(0)} ms after the spawn; node's own start before the profile began ${((profile.startTime - Number(node.spawnedAt / 1000n)) / 1000).toFixed(0)} ms; ${join(dir, file)}`);
  console.log(summarize(profile, Number(answeredAt / 1000n)));
}
