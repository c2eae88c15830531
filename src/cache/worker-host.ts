/**
 * The one lifecycle of the cache's worker threads (thread.ts), used by the write-behind and the
 * verifier alike: started on the first job, kept unref'd while idle (an idle thread must not keep
 * a finished process alive), its jobs tracked until answered, and on its death every job still
 * out handed back to the owner at once.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Startable } from '../util/lifecycle.ts';
import type { ThreadAnswer, ThreadJob } from './thread.ts';

/**
 * The thread module beside this one: thread.ts under tsx (tests, development), thread.js in the
 * build (plain node): in dist/src/cache/ for the library, and in the command's bundle dist/cli/,
 * where scripts/bundle-cli.ts writes thread.js beside the chunks (one of which holds this code).
 */
const THREAD_URL = new URL(import.meta.url.endsWith('.ts') ? './thread.ts' : './thread.js', import.meta.url);

/** The subset of esbuild's API used below. */
interface Esbuild {
  buildSync(options: Record<string, unknown>): { outputFiles: { text: string }[] };
}

let bundledThread: string | undefined;

/**
 * Under tsx (tests, development) thread.ts cannot be a worker's entry: Node 20 loads it before an
 * inherited `--import tsx` takes effect, and registering tsx inside every thread cost 0.4-1 s per
 * thread. So thread.ts and its imports are bundled once per process into one CommonJS script,
 * with the esbuild that tsx itself compiles with, and each thread evaluates that.
 */
function bundledThreadSource(): string {
  if (bundledThread === undefined) {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
    const esbuild = fromTsx('esbuild') as Esbuild;
    const built = esbuild.buildSync({
      entryPoints: [fileURLToPath(THREAD_URL)],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    bundledThread = built.outputFiles[0]!.text;
  }
  return bundledThread;
}

function spawnThread(): Worker {
  // No flags of the parent (its --inspect, --cpu-prof, --import tsx): the thread needs none.
  if (!THREAD_URL.pathname.endsWith('.ts')) return new Worker(THREAD_URL, { execArgv: [] });
  return new Worker(bundledThreadSource(), { eval: true, execArgv: [] });
}

export interface ThreadOwner<Job> {
  /** The thread answered `job`; `results` has one entry per item sent. */
  answered(job: Job, results: unknown[]): void;
  /**
   * The thread failed or exited; `lost` were out (their outcome is unknown). `answeredAny`: this
   * thread had answered a job, i.e. its module did load.
   */
  died(lost: Job[], err: unknown, answeredAny: boolean): void;
}

export class ThreadHost<Job> implements Startable {
  private thread: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private answeredAny = false;

  constructor(
    private readonly name: string,
    private readonly owner: ThreadOwner<Job>,
  ) {}

  /** Jobs sent and not yet answered. */
  get pending(): number {
    return this.jobs.size;
  }

  /** The jobs sent and not yet answered. */
  jobsOut(): IterableIterator<Job> {
    return this.jobs.values();
  }

  /** Starts the thread if it is not running; send() does so on demand. */
  start(): void {
    this.running();
  }

  private running(): Worker {
    if (this.thread !== undefined) return this.thread;
    const thread = spawnThread();
    this.answeredAny = false;
    thread.unref();
    thread.on('message', (raw: unknown) => {
      const { id, results } = raw as ThreadAnswer;
      const job = this.jobs.get(id);
      if (job === undefined) return;
      this.jobs.delete(id);
      this.answeredAny = true;
      // Nothing out: the thread must not keep an otherwise finished process alive. (The owner's
      // next send() refs it again.)
      if (this.jobs.size === 0) thread.unref();
      this.owner.answered(job, results);
    });
    thread.on('error', (err: unknown) => this.died(thread, err));
    thread.on('exit', (code) => this.died(thread, new Error(`cache ${this.name} thread exited with code ${code}`)));
    this.thread = thread;
    return thread;
  }

  /** Sends `job` as `message` (the thread's job of that id), starting the thread if needed. */
  send(job: Job, message: (id: number) => ThreadJob): void {
    const id = ++this.nextId;
    this.jobs.set(id, job);
    let thread: Worker;
    try {
      thread = this.running();
    } catch (err) {
      // The thread could not even be created: as a thread that died before answering, told
      // after the owner's current pump (which counts this job as out meanwhile).
      // Several failed sends in one pump: the first report covers them all.
      process.nextTick(() => {
        if (this.jobs.size > 0) this.lost(err, false);
      });
      return;
    }
    thread.ref();
    thread.postMessage(message(id));
  }

  /**
   * Terminates the thread; jobs still out are forgotten (their answers would never come). The
   * host can start again: the next send() starts a new thread.
   */
  async stop(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    this.jobs.clear();
    if (thread !== undefined) await thread.terminate();
  }

  private died(thread: Worker, err: unknown): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    this.lost(err, this.answeredAny);
  }

  private lost(err: unknown, answeredAny: boolean): void {
    const lost = [...this.jobs.values()];
    this.jobs.clear();
    this.owner.died(lost, err, answeredAny);
  }
}
