/**
 * `npm run demo`: the seed's "Try It Out" in one command. Starts examples/basic_coordinator_node.ts
 * and examples/basic_partial_node.ts as child processes on 127.0.0.1, narrates the handshake from
 * their logs as it happens, prints who knows what, and stops both.
 *
 *   npm run demo [-- --keep] [-- --timeout 20000] [-- --data-dir DIR] [-- --verbose]
 *
 * Exit 0 when both edges end up APPROVED on both nodes and both nodes shut down cleanly; otherwise
 * non-zero with the nodes' logs. The narration comes from the nodes' JSON log lines (the examples
 * switch to JSON with KOI_NET_LOG_PRETTY=false), and the final check from their state: the
 * coordinator's over HTTP, the partial node's from its cache directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Cache, EdgeStatus, KoiNetNode, findFreePort, NetworkGraph, RID, parseEdgeProfile, silentLogger, type EdgeProfile } from '../src/index.ts';
import { createKoiNetClient, fetchBundles, fetchRids } from '../src/client.ts';

const HOST = '127.0.0.1';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '20000' },
    'data-dir': { type: 'string' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run demo [-- --keep] [-- --timeout MS] [-- --data-dir DIR] [-- --verbose]\n' +
      '  --keep      leave both nodes running after the summary, until Ctrl-C\n' +
      '  --timeout   how long the handshake and approvals may take (default 20000)\n' +
      '  --data-dir  where the nodes keep their files (default a fresh temp dir, removed on success)\n' +
      '  --verbose   also print every log line of both nodes\n',
  );
  process.exit(0);
}
const timeoutMs = Number(args.timeout);
if (!(timeoutMs > 0)) {
  process.stderr.write(`--timeout must be a positive number of ms, got ${String(args.timeout)}\n`);
  process.exit(2);
}

type Role = 'coordinator' | 'partial';

/** One parsed pino JSON line (the fields the narration reads). */
interface LogLine {
  level?: number;
  msg?: string;
  rid?: string;
  url?: string;
  node?: string;
  nodeType?: string;
  edge?: string;
  peer?: string;
  coordinator?: string;
  firstContact?: string;
  known?: number;
  queued?: number;
  err?: string;
}

interface Child {
  role: Role;
  proc: ChildProcess;
  /** Every stdout/stderr line, for the failure report. */
  lines: string[];
  exit: Promise<number | null>;
}

const started = Date.now();
const known: Partial<Record<Role, string>> = {};
const seen = new Set<string>();
let coordinatorUrl = '';

function say(who: Role | 'demo', text: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(2).padStart(6);
  process.stdout.write(`[+${t}s] ${who.padEnd(11)} ${text}\n`);
}

/** `orn:koi-net.node:partial+9501521c-…` -> `partial+9501521c`: enough to tell nodes apart. */
function short(rid: string | undefined): string {
  if (!rid) return '?';
  const m = /^orn:koi-net\.node:([^+]+)\+(.{8})/.exec(rid);
  if (m) return `${m[1]}+${m[2]}`;
  return rid.length > 40 ? `${rid.slice(0, 37)}…` : rid;
}

/** The log messages worth a timeline line; everything else stays in the log (see --verbose). */
function narrate(role: Role, line: LogLine): void {
  const other: Role = role === 'coordinator' ? 'partial' : 'coordinator';
  switch (line.msg) {
    case 'coordinator ready':
      known.coordinator = line.rid;
      coordinatorUrl = line.url ?? coordinatorUrl;
      say(role, `is up at ${line.url} as ${short(line.rid)}`);
      break;
    case 'node initialized':
      // Logged before the handshake, so later lines can name the node.
      known[role] = line.rid;
      if (role === 'partial') say(role, `is up as ${short(line.rid)} (no server: it polls its first contact)`);
      break;
    case 'introduced this node to its first contact':
      seen.add('handshake');
      say(role, `handshake: sent FORGET self + NEW self to its first contact ${line.firstContact}`);
      break;
    case 'handling node handshake':
      say(role, `handshake received from ${short(line.node)} (${line.nodeType})`);
      break;
    case "sharing this node's bundle with peer":
      seen.add('welcome');
      say(role, `welcome: shared its own bundle with ${short(line.node)} (a NEW event in its poll queue)`);
      break;
    case 'proposing new edge':
      say(role, `welcome: proposed edge ${short(line.node)} -> ${short(known.coordinator)} (WEBHOOK, node + edge events)`);
      break;
    case 'identified a coordinator; proposing new edge':
      seen.add('learned');
      say(role, `learned the coordinator ${short(line.coordinator)}; proposing edge ${short(line.coordinator)} -> ${short(known.partial)} (POLL, node events)`);
      break;
    case 'caught up on network state':
      say(role, `caught up: the coordinator knows ${line.known} node(s), ${line.queued} new to us`);
      break;
    case 'approving proposed edge':
      seen.add(`approved-by-${role}`);
      say(role, `approved edge ${short(known[role])} -> ${short(line.peer ?? known[other])}`);
      break;
    case 'refusing proposed edge':
      say(role, `REFUSED edge ${line.rid}`);
      break;
    default:
      if ((line.level ?? 0) >= 40) say(role, `${(line.level ?? 0) >= 50 ? 'ERROR' : 'warning'}: ${line.msg ?? ''}${line.err ? ` (${line.err})` : ''}`);
  }
}

function startChild(role: Role, script: string, env: Record<string, string>): Child {
  // node --import tsx (not npx tsx) so the pid we signal is the node itself, not a wrapper.
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', script)], {
    cwd: ROOT,
    env: { ...process.env, KOI_NET_LOG_PRETTY: 'false', KOI_NET_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exit = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    lines.push(text);
    if (args.verbose) process.stdout.write(`    ${role}| ${text}\n`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return; // not a log line (a stray print); kept for the report only
    }
    if (typeof parsed === 'object' && parsed !== null) narrate(role, parsed as LogLine);
  });
  createInterface({ input: proc.stderr! }).on('line', (text) => {
    lines.push(`stderr: ${text}`);
    if (args.verbose) process.stdout.write(`    ${role}! ${text}\n`);
  });
  return { role, proc, lines, exit };
}


/** Resolves when `check` returns true; rejects with `what` after the deadline or when `abort` fires. */
async function waitFor(what: string, deadline: number, check: () => boolean | Promise<boolean>, abort: Promise<string>): Promise<void> {
  let aborted: string | undefined;
  void abort.then((reason) => (aborted = reason));
  while (!(await check())) {
    if (aborted) throw new Error(aborted);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface EdgeView {
  rid: string;
  profile: EdgeProfile;
}

/** The coordinator's edges, asked over HTTP with the standalone client. */
async function coordinatorEdges(): Promise<EdgeView[]> {
  const client = createKoiNetClient(coordinatorUrl);
  const rids = (await fetchRids(client, { rid_types: ['orn:koi-net.edge'] })).data?.rids ?? [];
  if (rids.length === 0) return [];
  const payload = (await fetchBundles(client, { rids })).data;
  return (payload?.bundles ?? payload?.manifests ?? []).map((b) => ({ rid: b.manifest.rid, profile: parseEdgeProfile(b.contents) }));
}

/** The partial node's edges, read from its cache directory (it has no server to ask). */
async function partialEdges(dataDir: string, me: string): Promise<EdgeView[]> {
  const cache = await Cache.open(join(dataDir, 'cache'), { logger: silentLogger });
  const rid = RID.fromString(me);
  if (!(rid instanceof KoiNetNode)) return [];
  const graph = new NetworkGraph(cache, rid, { logger: silentLogger });
  await graph.generate();
  const out: EdgeView[] = [];
  for (const edge of graph.getEdges()) {
    const profile = graph.getEdgeProfile({ rid: edge });
    if (profile) out.push({ rid: String(edge), profile });
  }
  return out;
}

const bothApproved = (edges: EdgeView[]): boolean =>
  edges.length >= 2 && edges.every((e) => e.profile.status === EdgeStatus.APPROVED);

function edgeLine(e: EdgeView): string {
  const p = e.profile;
  return `    ${short(p.source)} -> ${short(p.target)}  ${p.edge_type.padEnd(7)} ${p.status.padEnd(8)} [${p.rid_types.join(', ')}]`;
}

/** SIGTERM, then SIGKILL if the node has not stopped within 5 s. Resolves to the exit code. */
async function stopChild(c: Child): Promise<number | null> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return c.proc.exitCode;
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 5000);
  const code = await c.exit;
  clearTimeout(timer);
  return code;
}

async function main(): Promise<number> {
  const dataRoot = args['data-dir'] ? resolve(args['data-dir']) : await mkdtemp(join(tmpdir(), 'koi-net-demo-'));
  const port = await findFreePort(HOST);
  const url = `http://${HOST}:${port}/koi-net`;
  say('demo', `data under ${dataRoot}`);
  const deadline = Date.now() + timeoutMs;
  const children: Child[] = [];

  // Ctrl-C, during the run or after --keep, stops both nodes before the demo exits.
  let interrupted: (() => void) | undefined;
  let wasInterrupted = false;
  const interrupt = new Promise<void>((res) => (interrupted = res));
  const onSignal = (): void => {
    wasInterrupted = true;
    interrupted?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A child that dies before the end is a failure whatever the timeline says.
  let reportExit!: (reason: string) => void;
  const childDied = new Promise<string>((res) => (reportExit = res));
  let finishing = false;
  const watch = (c: Child): void => {
    void c.exit.then((code) => {
      // After a Ctrl-C in a terminal the nodes get the signal too and stop on their own.
      if (!finishing && !wasInterrupted) reportExit(`the ${c.role} node exited early (code ${code})`);
    });
  };

  const abort = Promise.race([childDied, interrupt.then(() => 'interrupted')]);

  let ok = true;
  let failure = '';
  try {
    const coordinator = startChild('coordinator', 'basic_coordinator_node.ts', {
      KOI_NET_HOST: HOST,
      KOI_NET_PORT: String(port),
      KOI_NET_DATA_DIR: join(dataRoot, 'coordinator'),
    });
    children.push(coordinator);
    watch(coordinator);
    await waitFor('the coordinator to listen', deadline, () => coordinatorUrl !== '', abort);

    const partial = startChild('partial', 'basic_partial_node.ts', {
      KOI_NET_FIRST_CONTACT: url,
      KOI_NET_DATA_DIR: join(dataRoot, 'partial'),
      // Fast rounds so the demo takes seconds; the example's default is the seed's 5 s.
      KOI_NET_POLL_INTERVAL_MS: '300',
    });
    children.push(partial);
    watch(partial);

    await waitFor('the handshake', deadline, () => seen.has('handshake') && seen.has('welcome'), abort);
    await waitFor('the partial node to learn the coordinator', deadline, () => seen.has('learned'), abort);
    await waitFor('both edge approvals', deadline, () => seen.has('approved-by-partial') && seen.has('approved-by-coordinator'), abort);
    await waitFor('the coordinator to hold both edges APPROVED', deadline, async () => bothApproved(await coordinatorEdges()), abort);
    say('coordinator', 'holds both edges as APPROVED');
    await waitFor(
      'the partial node to hold both edges APPROVED',
      deadline,
      async () => bothApproved(await partialEdges(join(dataRoot, 'partial'), known.partial ?? '')),
      abort,
    );
    say('partial', 'polled the approval of its edge: holds both edges as APPROVED');

    process.stdout.write('\nSummary\n');
    process.stdout.write(`  coordinator  ${known.coordinator}  FULL  ${coordinatorUrl}\n`);
    process.stdout.write(`  partial      ${known.partial}  PARTIAL (polls ${url})\n`);
    process.stdout.write('  edges as the coordinator sees them:\n');
    for (const e of await coordinatorEdges()) process.stdout.write(edgeLine(e) + '\n');
    process.stdout.write('  edges as the partial node sees them:\n');
    for (const e of await partialEdges(join(dataRoot, 'partial'), known.partial ?? '')) process.stdout.write(edgeLine(e) + '\n');
    process.stdout.write('\n');

    if (args.keep) {
      say('demo', `both nodes keep running (coordinator at ${coordinatorUrl}); Ctrl-C to stop`);
      say('demo', `try: npx tsx examples/client.ts ${coordinatorUrl}`);
      await Promise.race([interrupt, childDied.then((reason) => Promise.reject(new Error(reason)))]);
    }
  } catch (err) {
    ok = false;
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    finishing = true;
    say('demo', 'stopping both nodes');
    // Partial first, so it does not spend its last rounds polling a coordinator that is gone.
    for (const c of [...children].reverse()) {
      const code = await stopChild(c);
      if (code !== 0) {
        ok = false;
        failure ||= `the ${c.role} node exited with code ${code}`;
      } else {
        say(c.role, 'stopped cleanly');
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (wasInterrupted && !args.keep) {
    process.stdout.write(`\ninterrupted; node files kept in ${dataRoot}\n`);
    return 130;
  }
  if (!ok) {
    process.stdout.write(`\nDEMO FAILED: ${failure}\n`);
    for (const c of children) {
      process.stdout.write(`\n--- ${c.role} log (${c.lines.length} lines) ---\n${c.lines.join('\n')}\n`);
    }
    process.stdout.write(`\nnode files kept in ${dataRoot}\n`);
    return 1;
  }
  if (!args['data-dir'] && !args.keep) await rm(dataRoot, { recursive: true, force: true });
  say('demo', 'done: handshake, welcome and both approvals observed');
  return 0;
}

process.exit(await main());
