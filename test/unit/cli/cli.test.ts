import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createServer } from 'node:net';
import { listenOnPortZero, onFreePort } from '../../helpers/ports.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The command from its TypeScript sources (no build needed); test/package runs the compiled bin. */
const CLI = ['--import', 'tsx', join(ROOT, 'src', 'cli.ts')];

/** The child's environment without KOI_NET_* variables of whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KOI_NET_')));
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd, env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A started node process and its parsed "node started" line. */
interface Started {
  child: ChildProcessWithoutNullStreams;
  line: { msg: string; rid: string; url?: string };
  output: () => string;
  exited: Promise<number | null>;
}

function startNode(args: string[], timeoutMs = 15000, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, [...CLI, 'start', ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env } });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "node started" line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      for (const text of out.split('\n')) {
        if (!text.includes('"node started"')) continue;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.on('data', (more: Buffer) => (out += more.toString()));
        resolve({ child, line: JSON.parse(text) as Started['line'], output: () => out, exited });
        return;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited (${code}) before starting:\n${out}`));
    });
  });
}

async function stopNode(node: Started): Promise<number | null> {
  node.child.kill('SIGTERM');
  return node.exited;
}


async function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe('koi-net CLI', function () {
  this.timeout(60000);
  let dir: string;
  const running: Started[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-cli-'));
  });
  afterEach(async () => {
    // Only our own children, by handle; a test that failed midway must not leave a node running.
    for (const node of running.splice(0)) {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGKILL');
        await node.exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('--help prints usage; unknown commands and flags exit 2', async () => {
    const help = await run(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('koi-net start');
    expect(help.stdout).to.include('--first-contact');
    const unknown = await run(['fly']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('unknown command');
    const badFlag = await run(['start', '--bogus']);
    expect(badFlag.code).to.equal(2);
  });

  it('usage mistakes are one line that points to --help, not a help dump', async () => {
    for (const args of [['start', '--bogus'], ['start', '--port'], ['fly'], ['start', 'extra'], ['start', '--type', 'half']]) {
      const res = await run(args);
      expect(res.code, args.join(' ')).to.equal(2);
      expect(res.stdout, args.join(' ')).to.equal('');
      expect(res.stderr.trimEnd().split('\n'), args.join(' ')).to.have.length(1);
      expect(res.stderr).to.match(/^koi-net: .+See koi-net --help\.\n$/);
    }
    expect((await run(['start', '--bogus'])).stderr).to.equal("koi-net: Unknown option '--bogus'. See koi-net --help.\n");
  });

  it('a port in use is one clear line and exit 1, without a stack trace, and writes no config', async () => {
    const blocker = createServer();
    const port = await listenOnPortZero(blocker);
    try {
      const dataDir = join(dir, 'busy');
      const res = await run(['start', '--name', 'busy', '--port', String(port), '--data-dir', dataDir, '--log-level', 'silent']);
      expect(res.code).to.equal(1);
      expect(res.stderr).to.equal(`koi-net: cannot listen on 127.0.0.1:${port}: the address is already in use (choose another --port, or --port 0 for a free one)\n`);
      expect(existsSync(join(dataDir, 'koi-net.yaml'))).to.equal(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('start with flags alone writes the effective koi-net.yaml, so --data-dir alone restarts the same node', async () => {
    const dataDir = join(dir, 'flags');
    const first = await startNode([
      '--name', 'flagged', '--port', '0', '--data-dir', dataDir, '--role', 'coordinator',
      '--provides-event', 'orn:my.thing', '--provides-state', 'orn:my.thing', '--max-events-per-poll', '77',
    ]);
    running.push(first);
    expect(await stopNode(first)).to.equal(0);
    const yaml = await readFile(join(dataDir, 'koi-net.yaml'), 'utf8');
    // Port 0 is recorded as the port that was bound: peers keep this node's URL.
    const port = Number(new URL(first.line.url!).port);
    expect(yaml).to.include(`port: ${port}\n`);
    expect(yaml).to.include('name: flagged\n');
    expect(yaml).to.include('role: coordinator\n');
    expect(yaml).to.include('max_events_per_poll: 77\n');
    expect(yaml).to.include('data_dir: .\n');

    const second = await startNode(['--data-dir', dataDir]);
    running.push(second);
    expect(second.line.rid).to.equal(first.line.rid);
    expect(second.line.url).to.equal(first.line.url);
    const bundles = await postJson(`${second.line.url}/bundles/fetch`, { rids: [second.line.rid] });
    const profile = (bundles.json as { bundles: { contents: { provides: { event: string[]; state: string[] } } }[] }).bundles[0]!.contents;
    // The coordinator role adds node and edge types to what the flags asked for.
    expect(profile.provides.event).to.include('orn:my.thing');
    expect(profile.provides.state).to.include('orn:my.thing');
    expect(profile.provides.event).to.include('orn:koi-net.node');
    expect(await stopNode(second)).to.equal(0);
    // The file is the operator's from now on: a later start never rewrites it.
    expect(await readFile(join(dataDir, 'koi-net.yaml'), 'utf8')).to.equal(yaml);
  });

  it('precedence is flags > environment > file, as --help and the written YAML say', async () => {
    const help = (await run(['--help'])).stdout;
    const rule = 'command-line flags > KOI_NET_* environment variables > config file > defaults';
    expect(help).to.include(`Precedence: ${rule}.`);
    const dataDir = join(dir, 'prec');
    const init = await run(['init', '--name', 'prec', '--data-dir', dataDir, '--port', '1']);
    expect(init.code, init.stderr).to.equal(0);
    expect(await readFile(join(dataDir, 'koi-net.yaml'), 'utf8')).to.include(`# Precedence: ${rule.replace('config file', 'this file')}.`);

    let envPort = 0;
    const fromEnv = await onFreePort((p) => startNode(['--data-dir', dataDir], 15000, { KOI_NET_PORT: String((envPort = p)) }));
    running.push(fromEnv);
    expect(fromEnv.line.url).to.equal(`http://127.0.0.1:${envPort}/koi-net`); // environment over file
    expect(await stopNode(fromEnv)).to.equal(0);
    let flagPort = 0;
    const fromFlag = await onFreePort((p) => startNode(['--data-dir', dataDir, '--port', String((flagPort = p))], 15000, { KOI_NET_PORT: String(envPort) }));
    running.push(fromFlag);
    expect(fromFlag.line.url).to.equal(`http://127.0.0.1:${flagPort}/koi-net`); // flag over environment
    expect(await stopNode(fromFlag)).to.equal(0);
  });

  it('--pretty writes plain text (no colour codes) when the output is not a terminal', async () => {
    const child = spawn(process.execPath, [...CLI, 'start', '--name', 'pretty', '--port', '0', '--data-dir', join(dir, 'pretty'), '--pretty'], { cwd: ROOT, env: cleanEnv() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 20000;
    while (!out.includes('node started') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(out).to.match(/INFO.*node started/);
    expect(out).not.to.include('\u001b[');
    expect(out).not.to.match(/^\{"level"/m);
  });

  it('init writes a commented config and identity; status reads the directory', async () => {
    const dataDir = join(dir, 'alpha');
    const init = await run(['init', '--data-dir', dataDir, '--name', 'alpha', '--port', '8123', '--provides-event', 'orn:slack.message']);
    expect(init.code, init.stderr).to.equal(0);
    const initLine = JSON.parse(init.stdout.trim()) as { rid: string; config: string };
    expect(initLine.rid).to.match(/^orn:koi-net\.node:alpha\+/);
    expect(initLine.config).to.equal(join(dataDir, 'koi-net.yaml'));
    const yaml = await readFile(initLine.config, 'utf8');
    expect(yaml).to.include('name: alpha');
    expect(yaml).to.include('port: 8123');
    expect(yaml).to.match(/^# /m);

    const again = await run(['init', '--data-dir', dataDir, '--name', 'alpha']);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('already exists');

    const status = await run(['status', '--data-dir', dataDir, '--json']);
    expect(status.code, status.stderr).to.equal(0);
    const s = JSON.parse(status.stdout) as {
      identity: { rid: string; profile: { node_type: string; base_url: string; provides: { event: string[] } } };
      neighbors: unknown[];
      edges: unknown[];
      cache: { total: number };
      queues: { webhook: object; poll: object };
    };
    expect(s.identity.rid).to.equal(initLine.rid);
    expect(s.identity.profile.node_type).to.equal('FULL');
    expect(s.identity.profile.base_url).to.equal('http://127.0.0.1:8123/koi-net');
    expect(s.identity.profile.provides.event).to.deep.equal(['orn:slack.message']);
    expect(s.neighbors).to.deep.equal([]);
    expect(s.edges).to.deep.equal([]);
    expect(s.cache.total).to.equal(0);

    const text = await run(['status', '--data-dir', dataDir]);
    expect(text.stdout).to.include(initLine.rid);
    expect(text.stdout).to.match(/cache:\s+0 bundle/);
  });

  it('init refuses an invalid value, naming the field', async () => {
    const res = await run(['init', '--data-dir', join(dir, 'x'), '--provides-event', 'orn:']);
    expect(res.code).to.equal(2);
    expect(res.stderr).to.include('provides.event[0]');
    const port = await run(['init', '--data-dir', join(dir, 'y'), '--port', 'http']);
    expect(port.code).to.equal(2);
    expect(port.stderr).to.include('--port');
  });

  it('status of a missing directory fails cleanly', async () => {
    const res = await run(['status', '--data-dir', join(dir, 'nope')]);
    expect(res.code).to.equal(2);
    expect(res.stderr).to.include('no node directory');
  });

  it('start runs a full node that serves the API, stops on SIGTERM with 0, and keeps its RID', async () => {
    const dataDir = join(dir, 'full');
    const argsFor = (port: number): string[] => ['--name', 'fullnode', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--log-level', 'info'];
    // A picked port may be taken before the node binds it: then the start is tried on another.
    let port = 0;
    const first = await onFreePort((p) => startNode(argsFor((port = p))));
    running.push(first);
    expect(first.line.msg).to.equal('node started');
    expect(first.line.rid).to.match(/^orn:koi-net\.node:fullnode\+/);
    expect(first.line.url).to.equal(`http://127.0.0.1:${port}/koi-net`);

    const rids = await postJson(`${first.line.url}/rids/fetch`, {});
    expect(rids.status).to.equal(200);
    expect((rids.json as { rids: string[] }).rids).to.include(first.line.rid);
    const bundles = await postJson(`${first.line.url}/bundles/fetch`, { rids: [first.line.rid] });
    const b = bundles.json as { bundles: { contents: { base_url: string; node_type: string } }[] };
    expect(b.bundles[0]!.contents).to.include({ base_url: first.line.url, node_type: 'FULL' });
    const broadcast = await postJson(`${first.line.url}/events/broadcast`, { events: [] });
    expect(broadcast.status).to.equal(200);
    expect(broadcast.json).to.equal(null);

    expect(await stopNode(first)).to.equal(0);
    expect(first.output()).to.include('"node stopped"');

    // The RID comes from the data directory, whatever port the node comes back on.
    const second = await onFreePort((p) => startNode(argsFor(p)));
    running.push(second);
    expect(second.line.rid).to.equal(first.line.rid);
    expect(await stopNode(second)).to.equal(0);
  });

  it('start --port 0 announces the port it actually listens on', async () => {
    const node = await startNode(['--name', 'anyport', '--port', '0', '--data-dir', join(dir, 'anyport')]);
    running.push(node);
    const url = node.line.url!;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/koi-net$/);
    expect(url).not.to.include(':0/');
    const res = await postJson(`${url}/bundles/fetch`, { rids: [node.line.rid] });
    const contents = (res.json as { bundles: { contents: { base_url: string } }[] }).bundles[0]!.contents;
    expect(contents.base_url).to.equal(url);
    expect(await stopNode(node)).to.equal(0);
  });

  it('a partial node meets a coordinator through its first contact and subscribes to it', async () => {
    const coordinator = await startNode(['--name', 'coordinator', '--role', 'coordinator', '--port', '0', '--data-dir', join(dir, 'coord')]);
    running.push(coordinator);
    const partialDir = join(dir, 'partial');
    const partial = await startNode([
      '--name', 'partial', '--type', 'partial', '--first-contact', coordinator.line.url!,
      '--poll-interval', '200', '--data-dir', partialDir,
    ]);
    running.push(partial);
    expect(partial.line.url).to.equal(undefined);

    // The coordinator learns the partial node from the handshake; the partial learns the
    // coordinator and the edge from its first poll.
    const deadline = Date.now() + 15000;
    let coordRids: string[] = [];
    while (Date.now() < deadline) {
      coordRids = ((await postJson(`${coordinator.line.url}/rids/fetch`, {})).json as { rids: string[] }).rids;
      if (coordRids.includes(partial.line.rid) && coordRids.some((r) => r.startsWith('orn:koi-net.edge:'))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(coordRids).to.include(partial.line.rid);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stopNode(partial)).to.equal(0);

    const status = await run(['status', '--data-dir', partialDir, '--json']);
    const s = JSON.parse(status.stdout) as {
      neighbors: { rid: string; node_type: string }[];
      edges: { source: string; target: string; edge_type: string; status: string; rid_types: string[] }[];
      cache: { by_type: Record<string, number> };
    };
    expect(s.neighbors.map((n) => n.rid)).to.deep.equal([coordinator.line.rid]);
    // Two edges, as in the reference's examples: the coordinator subscribes to the partial node
    // (WEBHOOK, partial -> coordinator) and the partial node subscribes to the coordinator (POLL).
    expect(s.edges).to.have.length(2);
    const poll = s.edges.find((e) => e.edge_type === 'POLL');
    const webhook = s.edges.find((e) => e.edge_type === 'WEBHOOK');
    expect(poll).to.include({ source: coordinator.line.rid, target: partial.line.rid });
    expect(webhook).to.include({ source: partial.line.rid, target: coordinator.line.rid });
    expect(poll!.rid_types).to.have.members(['orn:koi-net.node', 'orn:koi-net.edge']);
    expect(poll!.status).to.equal('APPROVED');
    expect(webhook!.status).to.equal('APPROVED');
    expect(s.cache.by_type['orn:koi-net.node']).to.equal(2);
    expect(await stopNode(coordinator)).to.equal(0);
  });
});
