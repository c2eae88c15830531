/**
 * Real node processes for integration tests: `koi-net start ...` (the CLI's TypeScript sources, so
 * no build is needed after an edit; the compiled bin is tested by test/package) for plain nodes, or
 * the fixture script (test/integration/fixtures/custom-node.ts, same flags plus a few) when a node
 * needs handlers the CLI does not have. Each test owns a {@link Cluster}: its temp directory, the
 * processes it started (stopped by PID in afterEach) and their output, dumped when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';
import { onFreePort, retryWhileInUse } from '../../helpers/ports.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** `process.execPath` arguments that run the `koi-net` command from src/ (tsx). */
export const CLI_ARGS: readonly string[] = ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli.ts')];
const FIXTURE_NODE = join(REPO_ROOT, 'test', 'integration', 'fixtures', 'custom-node.ts');

/** Short enough that a partial node hears of an event within a few hundred ms. */
export const POLL_INTERVAL_MS = 200;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 8_000;
const MAX_KEPT_LINES = 4_000;

/** One JSON line a node printed (pino log line or a fixture record). */
export interface OutputRecord {
  msg?: string;
  [key: string]: unknown;
}

export interface NodeSpec {
  /** Test-local name; also the node name (part of its RID) and its data directory. */
  name: string;
  type: 'full' | 'partial';
  role?: 'coordinator';
  firstContact?: string;
  providesEvent?: string[];
  providesState?: string[];
  /** Fixture only: `NAME:EDGE_TYPE:TYPE[,TYPE]`, see fixtures/custom-node.ts. */
  propose?: string[];
  /** Run the fixture script instead of the CLI. */
  fixture?: boolean;
  /** Filled in by the cluster: kept across restarts so peers' cached base_url stays right. */
  port?: number;
  dataDir?: string;
}

type ResolvedSpec = NodeSpec & { dataDir: string };

/**
 * Children still running. If the test runner dies without running afterEach hooks (a crash, a
 * Ctrl-C), they are killed on its way out, so no node outlives the run holding a port.
 */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class NodeProcess {
  readonly records: OutputRecord[] = [];
  private readonly lines: string[] = [];
  private readonly exit: Promise<number | null>;
  private exited = false;
  private startedRecord: OutputRecord | undefined;

  private constructor(
    readonly spec: ResolvedSpec,
    private readonly child: ChildProcess,
  ) {
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.remember(`[${spec.name}] exited code=${code} signal=${signal}`);
        resolve(code);
      });
    });
    splitLines(child.stdout, (line) => {
      this.remember(`[${spec.name}] ${line}`);
      const record = parseRecord(line);
      if (record) this.records.push(record);
    });
    splitLines(child.stderr, (line) => this.remember(`[${spec.name}:stderr] ${line}`));
  }

  /** Spawns the node and resolves once it printed "node started" (rejects if it exits first). */
  static async start(spec: ResolvedSpec): Promise<NodeProcess> {
    const args = spec.fixture ? ['--import', 'tsx', FIXTURE_NODE, ...nodeArgs(spec)] : [...CLI_ARGS, 'start', ...nodeArgs(spec)];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: [spec.fixture ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const node = new NodeProcess(spec, child);
    live.add(child);
    child.once('exit', () => live.delete(child));
    try {
      await NodeProcess.awaitStarted(node);
    } catch (err) {
      // Nobody else holds this process yet, so a failed start must not leave it running.
      child.kill('SIGKILL');
      throw err;
    }
    return node;
  }

  private static async awaitStarted(node: NodeProcess): Promise<void> {
    const spec = node.spec;
    await Promise.race([
      waitFor(`${spec.name} to print "node started"`, () => node.findRecord((r) => r.msg === 'node started'), {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 50,
      }).then((r) => {
        node.startedRecord = r;
      }),
      node.exit.then((code) => {
        if (!node.startedRecord) throw new Error(`${spec.name} exited (code ${code}) before it started:\n${node.output(40)}`);
      }),
    ]);
  }

  get name(): string {
    return this.spec.name;
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  get running(): boolean {
    return !this.exited;
  }
  /** The node RID from the "node started" line. */
  get rid(): string {
    const rid = this.startedRecord?.rid;
    if (typeof rid !== 'string') throw new Error(`${this.name} announced no rid`);
    return rid;
  }
  /** Base URL of a full node (…/koi-net). */
  get url(): string {
    const url = this.startedRecord?.url;
    if (typeof url !== 'string') throw new Error(`${this.name} is not a full node (no url)`);
    return url;
  }

  findRecord(pred: (r: OutputRecord) => boolean): OutputRecord | undefined {
    return this.records.find(pred);
  }

  waitForRecord(what: string, pred: (r: OutputRecord) => boolean, timeoutMs = 30_000): Promise<OutputRecord> {
    return waitFor(`${this.name}: ${what}`, () => this.findRecord(pred), { timeoutMs, intervalMs: 50 });
  }

  /** Fixture nodes only: sends one JSON command on stdin and waits for its acknowledgement. */
  async command(cmd: Record<string, unknown>): Promise<OutputRecord> {
    if (!this.child.stdin) throw new Error(`${this.name} takes no commands (not a fixture node)`);
    const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    this.child.stdin.write(JSON.stringify({ ...cmd, id }) + '\n');
    const ack = await this.waitForRecord(`ack of command ${JSON.stringify(cmd)}`, (r) => r.msg === 'command done' && r.id === id, 10_000);
    if (ack.error !== undefined) throw new Error(`${this.name}: command failed: ${String(ack.error)}`);
    return ack;
  }

  /** SIGTERM (graceful: the node saves its queues), SIGKILL if it does not end in time. */
  async stop(): Promise<number | null> {
    if (this.exited) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.remember(`[${this.name}] did not stop within ${STOP_TIMEOUT_MS} ms; SIGKILL`);
      this.child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `n` lines of stdout and stderr, for failure diagnostics. */
  output(n = 200): string {
    return this.lines.slice(-n).join('\n');
  }

  private remember(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_KEPT_LINES) this.lines.splice(0, this.lines.length - MAX_KEPT_LINES);
  }
}

/**
 * The processes and temp directory of one test. Full nodes get a port picked before the start
 * (retried on another if it was taken) and kept, so that a restart comes back at the base_url its
 * peers cached.
 */
export class Cluster {
  private readonly processes: NodeProcess[] = [];

  private constructor(readonly dir: string) {}

  static async create(): Promise<Cluster> {
    return new Cluster(await mkdtemp(join(tmpdir(), 'koi-net-it-')));
  }

  async start(spec: NodeSpec): Promise<NodeProcess> {
    const resolved: ResolvedSpec = { ...spec, dataDir: spec.dataDir ?? join(this.dir, spec.name) };
    let node: NodeProcess;
    if (resolved.type === 'full' && resolved.port === undefined) {
      // The port is picked before the child binds it; if someone takes it meanwhile, another one.
      node = await onFreePort((port) => NodeProcess.start({ ...resolved, port }));
    } else if (resolved.port !== undefined) {
      // A restart must come back on its port (peers cached the URL); wait while it is still held.
      node = await retryWhileInUse(() => NodeProcess.start(resolved));
    } else {
      node = await NodeProcess.start(resolved);
    }
    this.processes.push(node);
    return node;
  }

  /** Starts the node again with the same name, port and data directory. */
  async restart(node: NodeProcess): Promise<NodeProcess> {
    await node.stop();
    return this.start(node.spec);
  }

  /**
   * Stops everything still running (in parallel: each stop waits for its own process only) and
   * removes the temp directory. With `failed`, every process's output goes to stderr first.
   */
  async dispose(failed: boolean): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    if (failed || process.env.KOI_NET_IT_VERBOSE) {
      for (const p of this.processes) process.stderr.write(`\n----- output of ${p.name} (pid ${p.pid}) -----\n${p.output()}\n`);
      process.stderr.write(`----- data kept in ${this.dir} -----\n`);
      return;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

function nodeArgs(spec: ResolvedSpec): string[] {
  const args = ['--name', spec.name, '--type', spec.type, '--data-dir', spec.dataDir, '--host', '127.0.0.1'];
  args.push('--poll-interval', String(POLL_INTERVAL_MS), '--log-level', process.env.KOI_NET_IT_LOG_LEVEL ?? 'info');
  // A dead peer should cost a test seconds, not the default 10 s per request.
  args.push('--request-timeout', '3000');
  if (spec.port !== undefined) args.push('--port', String(spec.port));
  if (spec.role) args.push('--role', spec.role);
  if (spec.firstContact) args.push('--first-contact', spec.firstContact);
  for (const t of spec.providesEvent ?? []) args.push('--provides-event', t);
  for (const t of spec.providesState ?? []) args.push('--provides-state', t);
  for (const p of spec.propose ?? []) args.push('--propose', p);
  return args;
}

/** The test runner's KOI_NET_* variables would silently reconfigure every node. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KOI_NET_')) env[k] = v;
  return env;
}

function splitLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
  });
}

function parseRecord(line: string): OutputRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as OutputRecord) : undefined;
  } catch {
    return undefined;
  }
}
