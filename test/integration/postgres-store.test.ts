/**
 * The PostgreSQL store end to end: `koi-net start --store postgres://...` as a real child process
 * against the tests' own throwaway cluster (test/helpers/postgres.ts) serves broadcast and fetch,
 * and a restart is the same node (same RID, same bundles, queued events still there); an
 * unreachable database or a schema from a newer koi-net ends the start with one line; a database
 * lost while running answers new broadcasts 503 (never 200) and recovers when it returns.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { KoiNetNode, RID } from '../../src/rid/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { NodeInterface } from '../../src/node.ts';
import { NodeIdentity } from '../../src/identity/index.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { SCHEMA_VERSION, openPostgresStore, type PostgresStore } from '../../src/postgres/index.ts';
import { freshDatabase, sharedCluster } from '../helpers/postgres.ts';
import { holdRefusingPort } from '../helpers/ports.ts';
import { collectingLogger, type LogLine } from '../helpers/logger.ts';
import { startCli, started, stopCli } from '../reliability/cli-child.ts';
import { runCliOnce } from '../helpers/cli-node.ts';
import { waitFor } from './helpers/wait.ts';

const post = async (url: string, body: unknown): Promise<{ status: number; json: unknown }> => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
};
const bundleOf = (n: number): Bundle => Bundle.generate(RID.fromString(`orn:test.thing:${n}`), { n, title: `thing ${n}` });
const newEvent = (b: Bundle): unknown => Event.fromBundle(b, EventType.NEW).toJSON();
type FetchAnswer = { bundles: { manifest: { rid: string } }[]; not_found: string[] };

describe('PostgreSQL store: the node on a real database', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-pg-node-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('koi-net start --store serves broadcast and fetch; a restart is the same node with the same bundles and queued events', async () => {
    const url = await freshDatabase('koi_cli');
    const args = ['--name', 'pgnode', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'cli'), '--store', url];
    const a = bundleOf(1);
    const b = bundleOf(2);
    let rid: string;
    let first = startCli(args);
    try {
      const rec = await started(first);
      rid = String(rec.rid);
      const base = String(rec.url);
      expect(rec.store).to.equal(url);
      const ack = await post(`${base}/events/broadcast`, { events: [newEvent(a), newEvent(b)] });
      expect(ack.status).to.equal(200);
      await waitFor('both bundles fetched', async () => {
        const r = (await post(`${base}/bundles/fetch`, { rids: [String(a.rid), String(b.rid)] })).json as FetchAnswer;
        return r.bundles.length === 2 ? r : undefined;
      });
    } finally {
      await stopCli(first);
    }
    expect(first.proc.exitCode).to.equal(0);

    // Events queued for a peer while the node is down (as a node would have left them).
    const peer = String(KoiNetNode.generate('poller'));
    const store = await openPostgresStore(url);
    const queues = await store.openQueues({});
    const queued = [bundleOf(3), bundleOf(4)].map((x) => Event.fromBundle(x, EventType.NEW));
    for (const e of queued) await queues.pushPoll(peer, e);
    await queues.close();
    await store.close();

    const second = startCli(args);
    try {
      const rec = await started(second);
      expect(String(rec.rid)).to.equal(rid);
      const base = String(rec.url);
      const fetched = (await post(`${base}/bundles/fetch`, { rids: [String(a.rid), String(b.rid)] })).json as FetchAnswer;
      expect(fetched.bundles.map((x) => x.manifest.rid).sort()).to.deep.equal([String(a.rid), String(b.rid)]);
      const rids = (await post(`${base}/rids/fetch`, { rid_types: ['orn:test.thing'] })).json as { rids: string[] };
      expect(rids.rids.sort()).to.deep.equal([String(a.rid), String(b.rid)]);
      const polled = (await post(`${base}/events/poll`, { rid: peer })).json as { events: { rid: string }[] };
      expect(polled.events.map((e) => e.rid)).to.deep.equal(queued.map((e) => String(e.rid)));
      const again = (await post(`${base}/events/poll`, { rid: peer })).json as { events: unknown[] };
      expect(again.events).to.deep.equal([]);
    } finally {
      await stopCli(second);
    }
    expect(second.proc.exitCode).to.equal(0);
  });

  it('SIGKILL right after the last 200: a restart processes every acknowledged event (the inbox replays from the database)', async () => {
    const url = await freshDatabase('koi_kill');
    const args = ['--name', 'killed', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'killed'), '--store', url];
    const bundles = Array.from({ length: 1_000 }, (_, i) => bundleOf(1_000 + i));
    const first = startCli(args);
    try {
      const base = String((await started(first)).url);
      for (let i = 0; i < bundles.length; i += 100) {
        const ack = await post(`${base}/events/broadcast`, { events: bundles.slice(i, i + 100).map(newEvent) });
        expect(ack.status).to.equal(200);
      }
      first.proc.kill('SIGKILL');
      await first.exit;
    } finally {
      await stopCli(first);
    }
    const second = startCli(args);
    try {
      const base = String((await started(second)).url);
      const all = bundles.map((b) => String(b.rid));
      await waitFor('every acknowledged bundle fetchable', async () => {
        const r = (await post(`${base}/rids/fetch`, { rid_types: ['orn:test.thing'] })).json as { rids: string[] };
        return r.rids.length >= all.length ? r : undefined;
      }, { timeoutMs: 60_000, intervalMs: 200 });
      const r = (await post(`${base}/rids/fetch`, { rid_types: ['orn:test.thing'] })).json as { rids: string[] };
      expect(new Set(r.rids)).to.deep.equal(new Set(all));
      // Acknowledging outruns processing (~5x here), so the kill left batches to replay.
      const reopened = second.records().find((x) => x.msg === 'inbox opened with unprocessed entries');
      expect(reopened?.recovered, 'entries replayed from the database').to.be.a('number').above(0);
    } finally {
      await stopCli(second);
    }
  });

  it('an unreachable database at start-up: one clear line on stderr and exit 1', async () => {
    const refusing = await holdRefusingPort();
    try {
      const err = await runCliOnce(['start', '--name', 'nodb', '--port', '0', '--data-dir', join(dir, 'nodb'), '--store', `postgres://koi@127.0.0.1:${refusing.port}/koi`], {}, 1);
      const lines = err.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^koi-net: cannot reach the PostgreSQL store postgres:\/\/koi@127\.0\.0\.1:\d+\/koi: .*ECONNREFUSED/);
    } finally {
      await refusing.close();
    }
  });

  it('a schema newer than this koi-net knows is refused, by the library and by the command', async () => {
    const url = await freshDatabase('koi_future');
    const store = await openPostgresStore(url);
    await store.db.query("INSERT INTO koi_schema_version (version, name) VALUES (999, 'from the future')");
    await store.close();
    let caught: unknown;
    try {
      await openPostgresStore(url);
    } catch (err) {
      caught = err;
    }
    expect((caught as { code?: string }).code).to.equal('schema_too_new');
    const err = await runCliOnce(['start', '--name', 'future', '--port', '0', '--data-dir', join(dir, 'future'), '--store', url], {}, 1);
    expect(err.trim().split('\n')).to.have.length(1);
    expect(err).to.match(new RegExp(`has schema version 999, newer than this koi-net knows \\(${SCHEMA_VERSION}\\)`));
  });

  it('two stores opened on one database at once are one node: one identity wins the race, and a write through one is listed by the other', async () => {
    const url = await freshDatabase('koi_two');
    const [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    try {
      const profile = { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:1/koi-net', provides: { event: [], state: [] } };
      const [ia, ib] = await Promise.all([
        NodeIdentity.load({ name: 'twin', profile, storage: a.identity }),
        NodeIdentity.load({ name: 'twin', profile, storage: b.identity }),
      ]);
      expect(String(ia.rid)).to.equal(String(ib.rid));
      const seen = new Promise<string>((resolve) => b.knowledge.onRemoteChange((c) => ('rid' in c ? resolve(c.rid) : undefined)));
      const rid = RID.fromString('orn:test.thing:one');
      await a.knowledge.write(Bundle.generate(rid, { n: 1 }));
      expect(await seen).to.equal(String(rid));
      expect(b.knowledge.exists(rid)).to.equal(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a dropped LISTEN session reconnects and reloads: a write made meanwhile by another process reaches the index', async () => {
    const url = await freshDatabase('koi_relisten');
    const logger = collectingLogger();
    const a = await openPostgresStore(url, { logger });
    const b = await openPostgresStore(url);
    try {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // Only a's LISTEN session (its pool may hold none, or idle ones that are kept).
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'", [a.db.applicationName]);
      } finally {
        await admin.end();
      }
      const rid = RID.fromString('orn:test.thing:missed');
      await b.knowledge.write(Bundle.generate(rid, { n: 1 }));
      await waitFor('the reload after the reconnect', () => (a.knowledge.exists(rid) ? true : undefined), { timeoutMs: 20_000 });
      expect(logger.lines.some((l) => l.msg === 'PostgreSQL LISTEN session back; reloading shared state')).to.equal(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('--workers above 1 with the file store is refused with one clear line, and nothing starts', async () => {
    const err = await runCliOnce(['start', '--name', 'files', '--port', '0', '--data-dir', join(dir, 'files'), '--workers', '2'], {}, 2);
    expect(err).to.match(/workers.*need a PostgreSQL store/);
  });

  it('--workers 2 on an unreachable database: the supervisor says so in one line and exits 1, forking nothing', async () => {
    const refusing = await holdRefusingPort();
    try {
      const err = await runCliOnce(['start', '--name', 'nodb2', '--port', '0', '--data-dir', join(dir, 'nodb2'), '--workers', '2', '--store', `postgres://koi@127.0.0.1:${refusing.port}/koi`], {}, 1);
      const lines = err.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^koi-net: cannot reach the PostgreSQL store .*ECONNREFUSED/);
    } finally {
      await refusing.close();
    }
  });

  it('signed mode keeps the key in the database, encrypted as the file backend writes it, and the same RID across restarts', async () => {
    const url = await freshDatabase('koi_signed');
    const make = (store: PostgresStore): NodeInterface =>
      new NodeInterface({
        name: 'signed',
        dataDir: join(dir, 'signed'),
        store,
        protocol: 'signed',
        privateKeyPassword: 'correct horse',
        profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      });
    const rids: string[] = [];
    for (let run = 0; run < 2; run++) {
      const store = await openPostgresStore(url);
      const node = make(store);
      await node.initialize();
      rids.push(String(node.identity.rid));
      await node.finalize();
      const { rows } = await store.db.query<{ pem: string }>('SELECT pem FROM koi_node_key');
      expect(rows[0]!.pem).to.match(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const identity = await store.db.query<{ rid: string }>('SELECT rid FROM koi_identity');
      expect(identity.rows[0]!.rid).to.equal(rids[0]);
      await store.close();
    }
    expect(rids[1]).to.equal(rids[0]);
    expect(rids[0]).to.match(/^orn:koi-net\.node:signed\+[0-9a-f]{64}$/);
  });

  describe('losing the database while running', () => {
    let store: PostgresStore;
    let node: NodeInterface;
    let server: RunningFullNode;
    const lines: LogLine[] = [];

    before(async () => {
      store = await openPostgresStore(await freshDatabase('koi_outage'), { connectTimeoutMs: 2_000 });
      node = new NodeInterface({
        name: 'outage',
        dataDir: join(dir, 'outage'),
        store,
        logger: collectingLogger(lines),
        profile: { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:1/koi-net', provides: { event: [], state: [] } },
      });
      server = await startFullNode(node, { host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      sharedCluster().start();
      await server.close();
      await node.finalize();
      await store.close();
    });

    it('answers new broadcasts 503 while the database is down, logs it, and stores them again once it is back', async () => {
      const a = bundleOf(10);
      expect((await post(`${server.url}/events/broadcast`, { events: [newEvent(a)] })).status).to.equal(200);
      await waitFor('first bundle stored', () => node.cache.exists(a.rid) || undefined);

      sharedCluster().stop();
      const b = bundleOf(11);
      const refused = await post(`${server.url}/events/broadcast`, { events: [newEvent(b)] });
      expect(refused.status).to.equal(503);
      expect(lines.some((l) => l.msg === 'store unavailable; request refused with 503')).to.equal(true);

      sharedCluster().start();
      // The sender retries: once the database is back the same broadcast is taken and stored.
      const accepted = await waitFor('a 200 once the database is back', async () => {
        const r = await post(`${server.url}/events/broadcast`, { events: [newEvent(b)] });
        return r.status === 200 ? r : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      expect(accepted.status).to.equal(200);
      await waitFor('second bundle stored', () => node.cache.exists(b.rid) || undefined);
      const client = new pg.Client({ connectionString: store.db.pool.options.connectionString });
      await client.connect();
      const { rows } = await client.query<{ rid: string }>('SELECT rid FROM koi_bundles WHERE rid_type = $1 ORDER BY rid', ['orn:test.thing']);
      await client.end();
      expect(rows.map((r) => r.rid)).to.deep.equal([String(a.rid), String(b.rid)]);
    });
  });
});
