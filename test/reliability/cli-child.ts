/**
 * A CLI node as a child process, with its raw output and exit, for tests that need what
 * helpers/processes.ts does not give: a start that must fail, or flags of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_ARGS, REPO_ROOT } from '../integration/helpers/processes.ts';
import { waitFor } from '../integration/helpers/wait.ts';

export interface CliChild {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
  /** JSON log lines printed so far. */
  records(): Record<string, unknown>[];
}

const children = new Set<ChildProcess>();
// A dying test runner must not leave nodes behind holding ports.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** `env`: KOI_NET_* variables for this child (the runner's own are removed). */
export function startCli(args: string[], env: Record<string, string> = {}): CliChild {
  const proc = spawn(process.execPath, [...CLI_ARGS, 'start', ...args], { cwd: REPO_ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const c: CliChild = {
    proc,
    stdout: '',
    stderr: '',
    exit: new Promise((r) => proc.once('exit', (code) => r(code))),
    records: () =>
      c.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (c.stdout += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (c.stderr += d));
  void c.exit.then(() => children.delete(proc));
  return c;
}

/** The test runner's KOI_NET_* variables would silently reconfigure every node. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KOI_NET_')) env[k] = v;
  return env;
}

/** Resolves with the "node started" record; rejects at once if the process exits first. */
export function started(c: CliChild, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  return waitFor(
    '"node started"',
    () => {
      const r = c.records().find((x) => x.msg === 'node started');
      if (r) return r;
      if (c.proc.exitCode !== null) return Promise.reject(new Error(`exited ${c.proc.exitCode} before it started: ${c.stderr}${c.stdout.slice(-3000)}`));
      return undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** SIGTERM, then SIGKILL after 8 s. */
export async function stopCli(c: CliChild): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), 8_000);
  await c.exit;
  clearTimeout(t);
}
