import { spawn } from 'node:child_process';

/**
 * The SIGKILL tests' child: runs `node --import tsx SCRIPT ...args`, which prints `ok N` once N is
 * acknowledged (durable), and SIGKILLs it the moment `killWhen(acked)` holds, mid-burst, while
 * later work is still being written. Rejects when the child exits before that (its stderr in the
 * message). Resolves with the acknowledged numbers, in order, and the signal that ended it.
 */
export async function runUntilKilled(
  script: string,
  args: readonly string[],
  killWhen: (acked: readonly number[]) => boolean,
): Promise<{ acked: number[]; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: number[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const m = /^ok (\d+)$/.exec(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (!m) continue;
        acked.push(Number(m[1]));
        if (killWhen(acked)) {
          child.kill('SIGKILL');
          resolve();
        }
      }
    });
    child.on('exit', () => (killWhen(acked) ? resolve() : reject(new Error(`child exited early: ${stderr}`))));
  });
  return { acked, signal: await exited };
}
