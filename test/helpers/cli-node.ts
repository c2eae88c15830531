/**
 * One-shot `koi-net` commands as child processes, for tests of commands against running nodes
 * (nodes themselves: startCli in test/reliability/cli-child.ts).
 */
import { spawn } from 'node:child_process';
import { CLI_ARGS, REPO_ROOT } from '../integration/helpers/processes.ts';
import { cleanEnv } from '../reliability/cli-child.ts';

export { startCli as startNode } from '../reliability/cli-child.ts';

/** Runs one CLI command to its end; resolves with stdout (stderr when the exit code is not 0). */
export function runCliOnce(args: string[], env: Record<string, string> = {}, expectedCode = 0, stdin?: string): Promise<string> {
  return new Promise((resolveOut, reject) => {
    const proc = spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: REPO_ROOT, env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
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
