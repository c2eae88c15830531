/**
 * Child processes that print JSON lines (delivery-child.ts, subscriber-child.ts): spawned with
 * tsx, each line handed to a listener, resolved once the `{"msg":"ready"}` line arrived. Every
 * child is tracked by PID so a test can always end what it started, and the runner's exit kills
 * whatever is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');

export interface JsonLine {
  msg?: string;
  [key: string]: unknown;
}

export interface Child {
  process: ChildProcess;
  ready: JsonLine;
  exited: Promise<void>;
  stderr(): string;
  /** SIGCONT (harmless when not stopped), then SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful stop), then kill() if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

/**
 * Extra node flags for the children, e.g. `KOI_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"`
 * to see where a child spends its time (--cpu-prof is not allowed in NODE_OPTIONS).
 */
const CHILD_NODE_ARGS = (process.env['KOI_CHILD_NODE_ARGS'] ?? '').split(' ').filter((a) => a.length > 0);

export function startChild(script: string, arg: unknown, onLine: (line: JsonLine) => void = () => {}, readyTimeoutMs = 30_000): Promise<Child> {
  const proc = spawn(process.execPath, [...CHILD_NODE_ARGS, '--import', 'tsx', join(HERE, script), JSON.stringify(arg)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => {
    live.delete(proc);
    r();
  }));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  const kill = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
    }
    await exited;
  };
  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    await kill();
  };
  return new Promise((resolve, reject) => {
    let buffer = '';
    let ready = false;
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`${script} not ready in ${readyTimeoutMs} ms: ${stderr}`));
    }, readyTimeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let line: JsonLine;
        try {
          line = JSON.parse(text) as JsonLine;
        } catch {
          continue;
        }
        if (!ready && line.msg === 'ready') {
          ready = true;
          clearTimeout(timer);
          resolve({ process: proc, ready: line, exited, stderr: () => stderr, kill, stop });
        } else onLine(line);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${script} exited (${String(code)}) before ready: ${stderr}`));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of `values` (0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
