/**
 * Start-up time of the `koi-net start` command: from spawn to its "node started" line, each run in a
 * fresh data directory, the node then stopped with SIGTERM. Prints min / median / max of the wall
 * time and of the CPU time the process had used by then (Linux /proc; steadier on a busy machine).
 *
 *   npx tsx scripts/cli-startup.ts [--runs N] -- <command...>
 *   e.g. npx tsx scripts/cli-startup.ts --runs 9 -- node bin/koi-net.js start --port 0
 * `--data-dir <fresh dir>` is appended to the command.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  process.stderr.write('usage: cli-startup.ts [--runs N] -- <command...>\n');
  process.exit(2);
}
const runsAt = argv.indexOf('--runs');
const runs = runsAt >= 0 && runsAt < sep ? Number(argv[runsAt + 1]) : 7;
const [cmd, ...args] = argv.slice(sep + 1) as [string, ...string[]];

/** User + system CPU ms of a process so far (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function once(): Promise<{ wall: number; cpu: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'koi-startup-'));
  const t0 = performance.now();
  const child = spawn(cmd, [...args, '--data-dir', join(dir, 'node')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let out = '';
  try {
    return await new Promise<{ wall: number; cpu: number }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"node started"')) {
          const wall = performance.now() - t0;
          // The pid that prints the line: the command itself, or its one child when run through a wrapper.
          const line = out.split('\n').find((l) => l.includes('"node started"'))!;
          const pid = (JSON.parse(line) as { pid?: number }).pid ?? child.pid!;
          resolve({ wall, cpu: cpuMs(pid) });
        }
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      void exited.then(() => reject(new Error(`exited before starting:\n${out}`)));
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

await once(); // warm-up: file system caches
const results: { wall: number; cpu: number }[] = [];
for (let i = 0; i < runs; i++) results.push(await once());
const f = (ms: number): string => ms.toFixed(0);
for (const key of ['wall', 'cpu'] as const) {
  const xs = results.map((r) => r[key]).sort((a, b) => a - b);
  process.stdout.write(`${key} ms over ${runs} runs: min ${f(xs[0]!)}, median ${f(xs[Math.floor(runs / 2)]!)}, max ${f(xs[runs - 1]!)}\n`);
}
