/**
 * `npm start` runs a node under npm and a shell. npm forwards SIGINT/SIGTERM to its child, so the
 * script must make the node that child (`exec`): otherwise the shell dies and the node is orphaned,
 * still holding its port and its data directory.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', function () {
  this.timeout(90000);
  let dir: string;
  const children: { pid: number }[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-npm-start-'));
  });
  afterEach(async () => {
    for (const { pid } of children.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`shuts the node down cleanly on ${signal} sent to the npm process`, async () => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KOI_NET_') && !k.startsWith('npm_')));
      // Later flags win, so the script's fixed port and data dir give way to a free port and a temp dir.
      const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data-dir', join(dir, 'coordinator')], { cwd: ROOT, env });
      children.push({ pid: npm.pid! });
      let out = '';
      npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
      npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => npm.on('close', resolve));

      const deadline = Date.now() + 60000;
      let started: { pid: number; url: string } | undefined;
      while (!started && Date.now() < deadline && npm.exitCode === null) {
        const line = out.split('\n').find((l) => l.includes('"node started"'));
        if (line) started = JSON.parse(line) as { pid: number; url: string };
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(started, out).to.not.equal(undefined);
      children.push({ pid: started!.pid });
      expect(started!.pid).to.not.equal(npm.pid);

      npm.kill(signal);
      const code = await exited;
      expect(out).to.include('"node stopped"');
      expect(isRunning(started!.pid), 'the node outlived npm').to.equal(false);
      expect(code, out).to.equal(0);
      // The port is free again: nothing is left listening.
      await fetch(`${started!.url}/rids/fetch`, { method: 'POST', body: '{}' }).then(
        () => expect.fail('the node still answers'),
        (err: Error) => expect(err.message).to.include('fetch failed'),
      );
    });
  }
});
