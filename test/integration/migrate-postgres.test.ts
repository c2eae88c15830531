/**
 * `koi-net migrate` between the files and PostgreSQL, as users run it: a file node (unsigned and
 * signed) started once as a child process, given cached bundles, edges and queued events, stopped,
 * migrated onto a throwaway cluster's database with the CLI, and started there with `koi-net
 * start` as a child: the same RID, the same bundles byte for byte in their manifests, the same
 * edges (fetch and `koi-net status`), and its queued events served to the poller. Then back out
 * to a new data dir, started again: the same node. Every refusal writes nothing.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { KoiNetEdge, KoiNetNode, RID } from '../../src/rid/index.ts';
import { Cache } from '../../src/cache/index.ts';
import { EventQueues } from '../../src/queues/index.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { startCli, started, stopCli, type CliChild } from '../reliability/cli-child.ts';
import { treeHash } from '../helpers/tree-hash.ts';
import { runCliOnce } from '../helpers/cli-node.ts';
import { openShellSession } from '../../src/cli/shell.ts';

const PASSWORD = 'migrate-me';

const post = async (url: string, body: unknown): Promise<unknown> => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, `${url} answered ${res.status}`).to.equal(200);
  return (await res.json()) as unknown;
};

type BundleJSON = { manifest: { rid: string; timestamp: string; sha256_hash: string }; contents: unknown };
type Status = {
  identity: { rid: string } | null;
  edges: { rid: string; status: string }[];
  neighbors: { rid: string }[];
  queues: { webhook: Record<string, number>; poll: Record<string, number> };
  cache: { total: number };
  store?: string;
};

async function count(url: string, table: string): Promise<number | 'no table'> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
    if (!t.rows[0]?.t) return 'no table';
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

const thing = (n: number): Bundle => Bundle.generate(RID.fromString(`orn:test.thing:${n}`), { n, title: `thing ${n}`, nested: { keys: { b: 1, a: 2 }, list: [3, 1, 2] } });

describe('koi-net migrate between files and PostgreSQL', function () {
  this.timeout(180_000);
  let dir: string;
  const children: CliChild[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-migrate-pg-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopCli(c);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: Record<string, string>): CliChild => {
    const c = startCli(args, env);
    children.push(c);
    return c;
  };
  const stop = async (c: CliChild): Promise<void> => {
    await stopCli(c);
    expect(c.proc.exitCode).to.equal(0);
  };

  for (const protocol of ['unsigned', 'signed'] as const) {
    it(`${protocol}: files -> PostgreSQL -> files, each started as a child process, is the same node with the same bundles, edges and queued events`, async () => {
      const env: Record<string, string> = protocol === 'signed' ? { KOI_NET_PRIV_KEY_PASSWORD: PASSWORD } : {};
      const source = join(dir, `${protocol}-files`);
      const configDir = join(dir, `${protocol}-pg-config`);
      const back = join(dir, `${protocol}-back`);
      const url = await freshDatabase(`koi_mig_${protocol}`);

      // A file node: started once (identity, key, its own bundle), fed bundles over HTTP, stopped.
      const first = run(['--name', `mig-${protocol}`, '--host', '127.0.0.1', '--port', '0', '--data-dir', source, '--protocol', protocol], env);
      const rec = await started(first);
      const rid = String(rec.rid);
      const things = [thing(1), thing(2), thing(3)];
      if (protocol === 'unsigned') {
        await post(`${String(rec.url)}/events/broadcast`, { events: things.map((b) => Event.fromBundle(b, EventType.NEW).toJSON()) });
        for (let i = 0; i < 100; i++) {
          const got = (await post(`${String(rec.url)}/bundles/fetch`, { rids: things.map((b) => String(b.rid)) })) as { bundles: unknown[] };
          if (got.bundles.length === things.length) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await stop(first);
      // What a node that met two pollers leaves behind: their node bundles, approved edges, and
      // events queued for them (written with the node's own stores while it is stopped).
      const pollers = [KoiNetNode.generate('poller-a'), KoiNetNode.generate('poller-b')];
      const cache = await Cache.open(join(source, 'cache'));
      if (protocol === 'signed') for (const b of things) await cache.write(b);
      const extra: Bundle[] = [];
      for (const p of pollers) {
        extra.push(Bundle.generate(p, { node_type: 'PARTIAL', base_url: null, provides: { event: [], state: [] } }));
        extra.push(
          Bundle.generate(KoiNetEdge.generate(rid, String(p)), { source: rid, target: String(p), edge_type: 'POLL', status: 'APPROVED', rid_types: ['orn:test.thing'] }),
        );
      }
      for (const b of extra) await cache.write(b);
      await cache.close();
      const queues = await EventQueues.open(join(source, 'event_queues.json'));
      const queued = things.map((b) => Event.fromBundle(b, EventType.UPDATE));
      for (const p of pollers) for (const e of queued) await queues.pushPoll(p, e);
      await queues.close();

      const original = new Map<string, BundleJSON>();
      for (const name of await readdir(join(source, 'cache'))) {
        const b = JSON.parse(await readFile(join(source, 'cache', name), 'utf8')) as BundleJSON;
        original.set(b.manifest.rid, b);
      }
      expect(original.size).to.equal(1 + things.length + extra.length);
      const edgeRids = extra.filter((b) => b.rid instanceof KoiNetEdge).map((b) => String(b.rid));
      const before = await treeHash(source, { directoryMtimes: false });

      // Onto PostgreSQL.
      const out = JSON.parse(await runCliOnce(['migrate', '--from', source, '--store', url, '--data-dir', configDir, '--json'])) as Record<string, unknown>;
      expect(out).to.include({ msg: 'node migrated', rid, protocol, bundles: original.size, edges: 2, queued_events: 6 });
      expect(await treeHash(source, { directoryMtimes: false }), 'the source data dir is unchanged').to.equal(before);
      expect(await readdir(configDir)).to.deep.equal(['koi-net.yaml']);

      const status = JSON.parse(await runCliOnce(['status', '--data-dir', configDir, '--json'])) as Status;
      expect(status.identity?.rid).to.equal(rid);
      expect(status.cache.total).to.equal(original.size);
      expect(status.edges.map((e) => e.rid).sort()).to.deep.equal([...edgeRids].sort());
      expect(status.queues.poll).to.deep.equal(Object.fromEntries(pollers.map((p) => [String(p), 3])));

      const onPg = run(['--data-dir', configDir], env);
      const pgRec = await started(onPg);
      expect(String(pgRec.rid)).to.equal(rid);
      expect(pgRec.store).to.equal(url);
      const pgUrl = String(pgRec.url);
      expect(pgUrl, 'the same base URL as on files').to.equal(String(rec.url));
      // koi-net status on the store itself, beside the running node (read-only sessions, no lock).
      const live = JSON.parse(await runCliOnce(['status', '--store', url, '--json'])) as Status;
      expect(live.identity?.rid).to.equal(rid);
      expect(live.store).to.equal(url);
      expect(live.edges.map((e) => e.rid).sort()).to.deep.equal([...edgeRids].sort());
      expect(live.neighbors.map((x) => x.rid).sort()).to.deep.equal(pollers.map(String).sort());
      expect(await runCliOnce(['status', '--store', url])).to.match(new RegExp(`store: +${url.replace(/[.?*+^$[\]\\(){}|-]/g, '\\$&')}`));
      const signed = protocol === 'signed' ? { selfDir: source, rid } : undefined;
      await expectSameBundles(pgUrl, original, signed);
      // The first poller's queue is served, in order, once. (A signed node answers only pollers
      // that sign with their own key; there the queues are checked through koi-net status.)
      if (!signed) {
        const polled = (await post(`${pgUrl}/events/poll`, { rid: String(pollers[0]) })) as { events: { rid: string; event_type: string }[] };
        expect(polled.events.map((e) => e.rid)).to.deep.equal(queued.map((e) => String(e.rid)));
        expect(((await post(`${pgUrl}/events/poll`, { rid: String(pollers[0]) })) as { events: unknown[] }).events).to.deep.equal([]);
      }
      expect(onPg.records().some((r) => /first.contact|handshake/i.test(String(r.msg)))).to.equal(false);
      await stop(onPg);

      // And back out to files.
      const outBack = JSON.parse(await runCliOnce(['migrate', '--from-store', url, '--data-dir', back, '--json'])) as Record<string, unknown>;
      expect(outBack).to.include({ msg: 'node migrated', rid, protocol, queued_events: signed ? 6 : 3, bundles: original.size });
      const backQueues = JSON.parse(await runCliOnce(['status', '--data-dir', back, '--json'])) as Status;
      expect(backQueues.queues.poll).to.deep.equal(Object.fromEntries(pollers.slice(signed ? 0 : 1).map((p) => [String(p), 3])));
      const onFiles = run(['--data-dir', back], env);
      const backRec = await started(onFiles);
      expect(String(backRec.rid)).to.equal(rid);
      expect(backRec.store).to.equal(undefined);
      expect(String(backRec.url)).to.equal(String(rec.url));
      await expectSameBundles(String(backRec.url), original, signed && { selfDir: back, rid });
      if (!signed) {
        const polledB = (await post(`${String(backRec.url)}/events/poll`, { rid: String(pollers[1]) })) as { events: { rid: string }[] };
        expect(polledB.events.map((e) => e.rid)).to.deep.equal(queued.map((e) => String(e.rid)));
      }
      await stop(onFiles);
      const backStatus = JSON.parse(await runCliOnce(['status', '--data-dir', back, '--json'])) as Status;
      expect(backStatus.edges.map((e) => e.rid).sort()).to.deep.equal([...edgeRids].sort());
      if (protocol === 'signed') expect(await readFile(join(back, 'priv_key.pem'), 'utf8')).to.equal(await readFile(join(source, 'priv_key.pem'), 'utf8'));
    });
  }

  it('refuses, writing nothing: a running node, a store that holds a node, an existing directory, a source that is not a node', async () => {
    const env = {};
    const source = join(dir, 'refusals-files');
    const url = await freshDatabase('koi_mig_refuse');
    const refused = async (args: string[], why: RegExp): Promise<void> => {
      const err = await runCliOnce(['migrate', ...args], env, 1);
      expect(err).to.match(/refused, nothing written/);
      expect(err).to.match(why);
    };

    // Running: its data-dir lock is held.
    const running = run(['--name', 'refusals', '--host', '127.0.0.1', '--port', '0', '--data-dir', source], env);
    await started(running);
    await refused(['--from', source, '--store', url], /is running \(pid \d+\)/);
    expect(await count(url, 'koi_identity'), 'nothing in the store').to.equal('no table');
    await stop(running);

    // Not a node.
    const empty = join(dir, 'not-a-node');
    await mkdir(empty);
    await refused(['--from', empty, '--store', url], /no identity\.json/);
    await refused(['--from-store', url, '--data-dir', join(dir, 'never')], /no koi-net store/);
    expect(await count(url, 'koi_identity'), 'a read-only look creates nothing').to.equal('no table');

    // An existing config dir.
    await refused(['--from', source, '--store', url, '--data-dir', empty], /already exists/);
    expect(await count(url, 'koi_identity')).to.equal('no table');

    const before = await treeHash(source, { directoryMtimes: false });
    await runCliOnce(['migrate', '--from', source, '--store', url]);
    expect(await treeHash(source, { directoryMtimes: false })).to.equal(before);
    const bundles = await count(url, 'koi_bundles');
    // A store that holds a node.
    await refused(['--from', source, '--store', url], /already holds the node/);
    expect(await count(url, 'koi_bundles')).to.equal(bundles);

    // Back out: an existing target, a running node on the store.
    await refused(['--from-store', url, '--data-dir', empty], /already exists/);
    expect(await readdir(empty)).to.deep.equal([]);
    const onPg = run(['--data-dir', source, '--store', url], env);
    await started(onPg);
    await refused(['--from-store', url, '--data-dir', join(dir, 'while-running')], /is running/);
    await stop(onPg);
    expect(await readdir(dir)).to.not.include('while-running');

    // Usage errors exit 2.
    await runCliOnce(['migrate', '--from', source, '--store', 'mysql://x/y'], env, 2);
    await runCliOnce(['migrate', '--from-store', url], env, 2);
  });
});

/**
 * Fetches every original bundle from the node at `base`: the manifests (timestamp and hash) and
 * contents are the originals. Signed nodes answer signed requests only: the request is signed as
 * the node itself, with its key from `selfDir` (as `koi-net fetch --data-dir` does).
 */
async function expectSameBundles(base: string, original: Map<string, BundleJSON>, signed?: { selfDir: string; rid: string }): Promise<void> {
  let fetched: { bundles: BundleJSON[]; not_found: string[] };
  if (signed) {
    process.env.KOI_NET_PRIV_KEY_PASSWORD = PASSWORD;
    try {
      const session = await openShellSession({ url: base, dataDir: signed.selfDir, targetRid: signed.rid });
      const r = await session.requests.fetchBundles({ url: base, node: signed.rid }, { rids: [...original.keys()] });
      fetched = { bundles: r.bundles.map((b) => b.toJSON() as BundleJSON), not_found: r.notFound.map(String) };
    } finally {
      delete process.env.KOI_NET_PRIV_KEY_PASSWORD;
    }
  } else {
    fetched = (await post(`${base}/bundles/fetch`, { rids: [...original.keys()] })) as typeof fetched;
  }
  expect(fetched.not_found).to.deep.equal([]);
  expect(fetched.bundles.map((b) => b.manifest.rid)).to.deep.equal([...original.keys()]);
  for (const b of fetched.bundles) {
    const o = original.get(b.manifest.rid)!;
    expect(b.manifest, b.manifest.rid).to.deep.equal(o.manifest);
    expect(b.contents, b.manifest.rid).to.deep.equal(o.contents);
  }
}
