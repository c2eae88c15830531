/**
 * Issue 13 item 3: `koi-net migrate` on the recorded directories of real Python nodes
 * (test/fixtures/python-nodes, copied from /work/shared/fixtures; see its README), then the
 * migrated node started as a real child process (`node --import tsx src/cli.ts start --data-dir X
 * --port 0`): over HTTP it answers as the same RID, serves the same bundles, and its graph has the
 * Python node's edges. The Python directory is hashed before and after: never changed. Refusals
 * (wrong password, foreign directory, existing target) write nothing.
 */
import { expect } from 'chai';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migratePythonNode, MigrationError } from '../../src/cli/migrate.ts';
import { fetchGraph, openShellSession } from '../../src/cli/shell.ts';
import { Bundle } from '../../src/knowledge/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { started, stopCli, type CliChild } from '../reliability/cli-child.ts';
import { treeHash } from '../helpers/tree-hash.ts';
import { runCliOnce, startNode } from '../helpers/cli-node.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/python-nodes/', import.meta.url));
const PASSWORD = 'koi-interop-test';

async function cacheBundles(dir: string): Promise<Map<string, Bundle>> {
  const out = new Map<string, Bundle>();
  for (const name of await readdir(dir)) {
    const b = Bundle.fromJSON(JSON.parse(await readFile(join(dir, name), 'utf8')));
    out.set(b.rid.toString(), b);
  }
  return out;
}

const CASES = [
  { fixture: 'b6-coordinator', cacheDir: '.cache', rid: 'orn:koi-net.node:coordinator+67079289-e5b5-42bd-9967-1e1ca09b4008', protocol: 'unsigned' },
  { fixture: 'v1.0.0-coordinator', cacheDir: '.coordinator_rid_cache', rid: 'orn:koi-net.node:coordinator+2f243837-6e3b-4581-982e-78c3eefedee6', protocol: 'unsigned' },
  {
    fixture: 'v2.0.6-coordinator',
    cacheDir: '.rid_cache',
    rid: 'orn:koi-net.node:coordinator+a17d07b5e12fc371ddb8e7a707922e20be22f7c0c63d6cfef17345ef994b0895',
    protocol: 'signed',
  },
] as const;

describe('koi-net migrate: Python node directories taken over as the same node', function () {
  this.timeout(120_000);
  let dir: string;
  const children: CliChild[] = [];
  const savedPassword = process.env.KOI_NET_PRIV_KEY_PASSWORD;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-migrate-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopCli(c);
    if (savedPassword === undefined) delete process.env.KOI_NET_PRIV_KEY_PASSWORD;
    else process.env.KOI_NET_PRIV_KEY_PASSWORD = savedPassword;
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.fixture}: migrated, started as a child process, same RID, bundles and edges`, async () => {
      const from = join(FIXTURES, c.fixture);
      const before = await treeHash(from);
      const dataDir = join(dir, 'node');
      const report = await migratePythonNode({ from, dataDir, env: { PRIV_KEY_PASSWORD: PASSWORD } });
      expect(report.rid).to.equal(c.rid);
      expect(report.protocol).to.equal(c.protocol);
      expect(await treeHash(from), 'the Python directory is unchanged').to.equal(before);

      const python = await cacheBundles(join(from, c.cacheDir));
      const pythonEdges = [...python.values()].filter((b) => b.rid.toString().startsWith('orn:koi-net.edge:'));
      expect(pythonEdges).to.have.length(2);

      // The migrated key keeps the Python password; ours reads it from KOI_NET_PRIV_KEY_PASSWORD.
      const running = startNode(['--data-dir', dataDir, '--port', '0'], c.protocol === 'signed' ? { KOI_NET_PRIV_KEY_PASSWORD: PASSWORD } : {});
      children.push(running);
      const record = await started(running, 60_000);
      expect(record.rid).to.equal(c.rid);
      const url = String(record.url);

      if (c.protocol === 'signed') process.env.KOI_NET_PRIV_KEY_PASSWORD = PASSWORD;
      const session = await openShellSession(c.protocol === 'signed' ? { url, dataDir, targetRid: c.rid } : { url });
      const { rids } = await session.requests.fetchRids({ url, node: c.rid });
      expect(rids.map(String)).to.have.members([...python.keys()]);
      const { bundles } = await session.requests.fetchBundles({ url, node: c.rid }, { rids: [...python.keys()] });
      expect(bundles).to.have.length(python.size);
      for (const b of bundles) {
        const original = python.get(b.rid.toString())!;
        expect(b.contents, b.rid.toString()).to.deep.equal(original.contents);
        // b6 hashed with json.dumps(sort_keys) instead of JCS: the node re-announces its own
        // bundle under the JCS hash. Every other bundle is served with the Python manifest.
        if (!(c.fixture.startsWith('b6') && b.rid.toString() === c.rid)) expect(b.manifest.toJSON(), b.rid.toString()).to.deep.equal(original.manifest.toJSON());
      }
      const graph = await fetchGraph(session);
      expect(graph.edges.map((e) => e.rid)).to.have.members(pythonEdges.map((b) => b.rid.toString()));
      for (const e of graph.edges) expect(e.profile.status).to.equal('APPROVED');
      // No handshake: the node already knows its neighbours (no first contact is configured).
      expect(running.records().some((r) => /first.contact|handshake/i.test(String(r.msg)))).to.equal(false);
      // 2.x's rid_types_of_interest become the start-up catch-up's types.
      const config = await loadConfig(join(dataDir, 'koi-net.yaml'));
      expect(config.catchUpRidTypes).to.deep.equal(c.protocol === 'signed' ? ['orn:koi-net.node', 'orn:koi-net.edge'] : []);
      const status = JSON.parse(await runCliOnce(['status', '--data-dir', dataDir, '--json'])) as { edges: unknown[]; identity: { rid: string } };
      expect(status.identity.rid).to.equal(c.rid);
      expect(status.edges).to.have.length(2);
    });
  }

  it('keeps the event queues of a 1.0.x node that saved them at shutdown', async () => {
    const from = join(FIXTURES, 'v1.0.0-coordinator-queued');
    const report = await migratePythonNode({ from, dataDir: join(dir, 'q'), env: {} });
    expect(report.queued_events).to.equal(1);
    const status = JSON.parse(await runCliOnce(['status', '--data-dir', join(dir, 'q'), '--json'])) as { queues: { poll: Record<string, number> } };
    expect(status.queues.poll).to.deep.equal({ 'orn:koi-net.node:partial+42946b11-3649-416d-8079-a06058ffc297': 1 });
  });

  it('refuses, writing nothing: wrong password, foreign directory, existing target', async () => {
    const v2 = join(FIXTURES, 'v2.0.6-coordinator');
    const before = await treeHash(v2);
    const target = join(dir, 'new');
    const refused = async (p: Promise<unknown>, pattern: RegExp): Promise<void> => {
      try {
        await p;
      } catch (err) {
        expect(err).to.be.instanceOf(MigrationError);
        expect((err as Error).message).to.match(pattern);
        return;
      }
      throw new Error('expected a refusal');
    };
    await refused(migratePythonNode({ from: v2, dataDir: target, env: { PRIV_KEY_PASSWORD: 'wrong' } }), /wrong password/);
    await refused(migratePythonNode({ from: v2, dataDir: target, env: {} }), /PRIV_KEY_PASSWORD/);
    // The password from the node directory's .env works (a copy: the fixture stays as recorded).
    const withEnv = join(dir, 'with-env');
    await cp(v2, withEnv, { recursive: true });
    await writeFile(join(withEnv, '.env'), `PRIV_KEY_PASSWORD="${PASSWORD}"\n`);
    const foreign = join(dir, 'foreign');
    await cp(join(FIXTURES, 'b6-coordinator', '.cache'), foreign, { recursive: true });
    await refused(migratePythonNode({ from: foreign, dataDir: target, env: {} }), /not a Python koi-net node directory/);
    await refused(migratePythonNode({ from: join(dir, 'missing'), dataDir: target, env: {} }), /cannot read/);
    expect(await readdir(dir)).to.have.members(['with-env', 'foreign']);
    await migratePythonNode({ from: withEnv, dataDir: target, env: {} });
    await refused(migratePythonNode({ from: withEnv, dataDir: target, env: {} }), /already exists/);
    expect(await treeHash(v2)).to.equal(before);
    // The CLI says so and exits 1.
    const err = await runCliOnce(['migrate', '--from', v2, '--data-dir', join(dir, 'other')], { PRIV_KEY_PASSWORD: 'wrong' }, 1);
    expect(err).to.match(/refused, nothing written/);
    expect(await readdir(dir)).to.have.members(['with-env', 'foreign', 'new']);
  });
});

