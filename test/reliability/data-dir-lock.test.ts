/**
 * Issue 10, item 2: one process per data dir. Real CLI processes on real ports: a second start on
 * a directory in use exits 1 with "data dir D is in use by pid N" and writes nothing there; after
 * SIGKILL of the holder a new start takes the stale lock over; of starters racing for a stale lock
 * exactly one wins. The library lock is also raced in-process.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock, DataDirLockedError, LOCK_FILE_NAME } from '../../src/data-dir-lock.ts';
import { CLI_ARGS, REPO_ROOT } from '../integration/helpers/processes.ts';
import { cleanEnv, startCli, started, stopCli, type CliChild } from './cli-child.ts';
import { waitFor } from '../integration/helpers/wait.ts';

type Child = CliChild;

/** Port 0: the node binds a port the OS chose, so no test assumes a port stays free. */
function startNode(dataDir: string): Child {
  return startCli(['--name', 'locked', '--type', 'full', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info']);
}

/** Names, sizes and mtimes of every file below `dir`: "nothing was written" compares these. */
async function snapshotTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    const s = await stat(p);
    out.push(`${p} ${s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

describe('reliability: one process per data dir (lock)', function () {
  this.timeout(120_000);
  let dir: string;
  const running: Child[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-lock-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map(stopCli));
    await rm(dir, { recursive: true, force: true });
  });

  it('a second process on the same data dir exits 1 naming the holder and writes nothing there', async () => {
    const dataDir = join(dir, 'node');
    const first = startNode(dataDir);
    running.push(first);
    await started(first);
    const identityBefore = await readFile(join(dataDir, 'identity.json'), 'utf8');
    // Let the node go quiet before the second start (cache write-behind, the queues' idle
    // compaction 500 ms after their last write): ample margin on a loaded machine.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await snapshotTree(dataDir);

    const second = startNode(dataDir);
    running.push(second);
    // Old behaviour: the second process simply runs; give it ample time to exit instead.
    const code = await Promise.race([second.exit, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000))]);
    expect(code, second.stderr + second.stdout.slice(0, 2000)).to.equal(1);
    expect(second.stderr.trim()).to.equal(`koi-net: data dir ${dataDir} is in use by pid ${first.proc.pid}`);
    expect(second.stdout).not.to.include('node started');
    expect(await readFile(join(dataDir, 'identity.json'), 'utf8')).to.equal(identityBefore);
    expect(await snapshotTree(dataDir)).to.deep.equal(before);
    expect(first.proc.exitCode).to.equal(null);

    // `init --force` would rewrite the config and identity of the running node: refused the same way.
    const init = spawnSync(process.execPath, [...CLI_ARGS, 'init', '--name', 'other', '--data-dir', dataDir, '--force'], { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8' });
    expect(init.status, init.stderr).to.equal(1);
    expect(init.stderr.trim()).to.equal(`koi-net: data dir ${dataDir} is in use by pid ${first.proc.pid}`);
    expect(await snapshotTree(dataDir)).to.deep.equal(before);
  });

  it('a lock left by a SIGKILLed process is taken over by the next start', async () => {
    const dataDir = join(dir, 'node');
    const first = startNode(dataDir);
    running.push(first);
    await started(first);
    first.proc.kill('SIGKILL');
    await first.exit;
    const stale = JSON.parse(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8')) as { pid: number };
    expect(stale.pid).to.equal(first.proc.pid);

    const next = startNode(dataDir);
    running.push(next);
    await started(next);
    const lock = JSON.parse(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8')) as { pid: number };
    expect(lock.pid).to.equal(next.proc.pid);
    // A clean stop removes the lock.
    await stopCli(next);
    expect(await readdir(dataDir)).not.to.include(LOCK_FILE_NAME);
  });

  it('of two processes racing for a stale lock exactly one starts; the other exits 1', async () => {
    const dataDir = join(dir, 'node');
    const first = startNode(dataDir);
    running.push(first);
    await started(first);
    first.proc.kill('SIGKILL');
    await first.exit;

    const a = startNode(dataDir);
    const b = startNode(dataDir);
    running.push(a, b);
    const outcome = await Promise.race([
      Promise.all([a.exit, b.exit]).then(() => 'both exited'),
      waitFor('one racer to start and the other to exit', () => {
        const up = [a, b].filter((c) => c.stdout.includes('"msg":"node started"'));
        const out = [a, b].filter((c) => c.proc.exitCode !== null);
        return up.length === 1 && out.length === 1 ? 'one won' : undefined;
      }, { timeoutMs: 40_000, intervalMs: 50 }),
    ]);
    expect(outcome, a.stderr + b.stderr).to.equal('one won');
    const winner = [a, b].find((c) => c.proc.exitCode === null)!;
    const loser = [a, b].find((c) => c.proc.exitCode !== null)!;
    expect(loser.proc.exitCode).to.equal(1);
    expect(loser.stderr.trim()).to.equal(`koi-net: data dir ${dataDir} is in use by pid ${winner.proc.pid}`);
  });

  it("a stale lock naming this very pid (a container's pid 1 after a restart) is taken over; a live one of ours is not", async () => {
    const dataDir = join(dir, 'same-pid');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, LOCK_FILE_NAME), JSON.stringify({ pid: process.pid, token: 'left-by-an-earlier-process' }) + '\n');
    const lock = await DataDirLock.acquire(dataDir);
    try {
      const err = await DataDirLock.acquire(dataDir).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(DataDirLockedError);
    } finally {
      await lock.release();
    }
    expect(await readdir(dataDir)).to.deep.equal([]);
  });

  it('in-process: many concurrent acquirers of a stale lock, exactly one wins; release lets the next in', async () => {
    const dataDir = join(dir, 'lib');
    // A pid that is certainly dead: a child we started and reaped.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, LOCK_FILE_NAME), JSON.stringify({ pid: dead.pid, token: 'stale' }) + '\n');

    const results = await Promise.allSettled(Array.from({ length: 12 }, () => DataDirLock.acquire(dataDir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).to.have.length(1);
    expect(lost).to.have.length(11);
    for (const l of lost) {
      expect(l.reason).to.be.instanceOf(DataDirLockedError);
      expect((l.reason as Error).message).to.equal(`data dir ${dataDir} is in use by pid ${process.pid}`);
    }
    const lock = (won[0] as PromiseFulfilledResult<DataDirLock>).value;
    await lock.release();
    const again = await DataDirLock.acquire(dataDir);
    await again.release();
    // No temp or aside files left behind.
    expect(await readdir(dataDir)).to.deep.equal([]);
  });
});
