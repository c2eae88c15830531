/**
 * The koi-net command as child processes, for tests of commands against running nodes: a node
 * started with `koi-net start` (KOI_NET_* variables of the test runner removed, only the given
 * ones set) and one-shot commands run to their end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliChild } from '../reliability/cli-child.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const children = new Set<ChildProcess>();
// A dying test runner must not leave nodes behind holding ports.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function withoutKoiNetVars(): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KOI_NET_')) base[k] = v;
  return base;
}

/** `koi-net start ARGS` as a child process, with only the KOI_NET_* variables given in `env`. */
export function startNode(args: string[], env: Record<string, string> = {}): CliChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'start', ...args], {
    cwd: root,
    env: { ...withoutKoiNetVars(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (c.stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (c.stderr += d));
  children.add(proc);
  void c.exit.then(() => children.delete(proc));
  return c;
}

/** Runs one CLI command to its end; resolves with stdout (stderr when the exit code is not 0). */
export function runCliOnce(args: string[], env: Record<string, string> = {}, expectedCode = 0, stdin?: string): Promise<string> {
  return new Promise((resolveOut, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], { cwd: root, env: { ...withoutKoiNetVars(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdin.end(stdin ?? '');
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    proc.once('exit', (code) => {
      if (code !== expectedCode) reject(new Error(`koi-net ${args.join(' ')} exited ${code}: ${err}${out}`));
      else resolveOut(code === 0 ? out : err);
    });
  });
}
