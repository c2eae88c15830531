/**
 * The examples are documentation that runs: these tests start them as real processes on 127.0.0.1
 * (as a reader would) so that an API change that breaks them fails here, not in a reader's shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { onFreePort } from '../helpers/ports.ts';
import { createKoiNetClient, fetchRids } from '../../src/client.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';

interface Proc {
  proc: ChildProcess;
  /** stdout and stderr lines so far. */
  lines: string[];
  exit: Promise<number | null>;
}

/** node --import tsx, so the pid is the node itself and SIGTERM reaches the example's handler. */
function run(script: string, env: Record<string, string> = {}, argv: string[] = []): Proc {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...argv], {
    cwd: ROOT,
    env: { ...process.env, KOI_NET_LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: proc.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`));
  const exit = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return { proc, lines, exit };
}

/** Messages of the JSON log lines so far. */
function messages(p: Proc): string[] {
  return p.lines.flatMap((l) => {
    try {
      const parsed: unknown = JSON.parse(l);
      return typeof parsed === 'object' && parsed !== null && typeof (parsed as { msg?: unknown }).msg === 'string'
        ? [(parsed as { msg: string }).msg]
        : [];
    } catch {
      return [];
    }
  });
}

async function until(what: string, p: Proc, check: () => boolean | Promise<boolean>, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (p.proc.exitCode !== null) throw new Error(`process exited (${p.proc.exitCode}) before ${what}:\n${p.lines.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${p.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a process we started; SIGKILL only if it ignores SIGTERM, so a hang still ends the test. */
async function stop(p: Proc): Promise<number | null> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.proc.exitCode;
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), 8000);
  const code = await p.exit;
  clearTimeout(timer);
  return code;
}

describe('examples', function () {
  this.timeout(60000);
  const started: Proc[] = [];
  let dataRoot: string;

  before(async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'koi-net-examples-test-'));
  });
  afterEach(async () => {
    for (const p of started.splice(0)) await stop(p);
  });
  after(async () => {
    await rm(dataRoot, { recursive: true, force: true });
  });

  it('npm run demo: narrates handshake and approvals, then exits 0', async () => {
    const demo = run('scripts/demo.ts');
    started.push(demo);
    const code = await demo.exit;
    const out = demo.lines.join('\n');
    expect(code, out).to.equal(0);
    expect(out).to.match(/partial\s+handshake: sent FORGET self \+ NEW self/);
    expect(out).to.match(/coordinator\s+welcome: shared its own bundle/);
    expect(out).to.match(/coordinator\s+welcome: proposed edge/);
    expect(out).to.match(/partial\s+learned the coordinator/);
    expect(out).to.match(/partial\s+approved edge partial\+\w+ -> coordinator\+\w+/);
    expect(out).to.match(/coordinator\s+approved edge coordinator\+\w+ -> partial\+\w+/);
    expect(out).to.match(/Summary/);
    expect(out.match(/WEBHOOK APPROVED|POLL\s+APPROVED/g) ?? []).to.have.length(4);
    expect(out).to.match(/partial\s+stopped cleanly/);
    expect(out).to.match(/coordinator\s+stopped cleanly/);
  });

  it('full_node_template serves and partial_node_template polls it; both stop cleanly on SIGTERM', async () => {
    // A picked port may be taken before the example binds it: then it is started on another.
    const { full, url } = await onFreePort(async (port) => {
      const proc = run('examples/full_node_template.ts', {
        KOI_NET_HOST: HOST,
        KOI_NET_PORT: String(port),
        KOI_NET_DATA_DIR: join(dataRoot, 'full'),
      });
      started.push(proc);
      await until('the full node to listen', proc, () => messages(proc).includes('full node listening'));
      return { full: proc, url: `http://${HOST}:${port}/koi-net` };
    });

    const client = createKoiNetClient(url);
    const ridsOf = async (): Promise<string[]> => (await fetchRids(client, { rid_types: ['orn:koi-net.node'] })).data?.rids ?? [];
    expect((await ridsOf()).some((r) => r.startsWith('orn:koi-net.node:myfullnode+'))).to.equal(true);

    const partial = run('examples/partial_node_template.ts', {
      KOI_NET_FIRST_CONTACT: url,
      KOI_NET_DATA_DIR: join(dataRoot, 'partial'),
      KOI_NET_POLL_INTERVAL_MS: '200',
      // Quiet rounds log at debug; they are what shows the loop is running.
      KOI_NET_LOG_LEVEL: 'debug',
    });
    started.push(partial);
    await until('two poll rounds', partial, () => messages(partial).filter((m) => m === 'polled neighbors').length >= 2);
    // The handshake reached the full node, whose default handlers cached the partial node's bundle.
    await until('the full node to know the partial node', full, async () =>
      (await ridsOf()).some((r) => r.startsWith('orn:koi-net.node:mypartialnode+')),
    );

    expect(await stop(partial), partial.lines.join('\n')).to.equal(0);
    expect(await stop(full), full.lines.join('\n')).to.equal(0);
    expect(messages(partial)).to.include('node finalized');
    expect(messages(full)).to.include('node finalized');
  });
});
