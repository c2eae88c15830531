/**
 * One suite of store contract tests, run against every backend: the files in a data dir (the
 * default) and PostgreSQL (a throwaway cluster of the tests' own, test/helpers/postgres.ts). What
 * the node relies on of its knowledge store, event queues and inbox must hold on both, including
 * what survives a close and reopen.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bundle, Event, EventType } from '../../../src/knowledge/index.ts';
import { KoiNetNode, RID } from '../../../src/rid/index.ts';
import { Cache, type KnowledgeStore } from '../../../src/cache/index.ts';
import { EventQueues, type EventQueueStore } from '../../../src/queues/index.ts';
import { Inbox, type InboxLog } from '../../../src/inbox/index.ts';
import { openPostgresStore } from '../../../src/postgres/index.ts';
import { freshDatabase } from '../../helpers/postgres.ts';
import { ResponseHandler } from '../../../src/server/operations/fetch-answers.ts';

interface Opened {
  knowledge: KnowledgeStore;
  queues: EventQueueStore;
  inbox: InboxLog;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  /** A new, empty place to store into. */
  fresh(): Promise<void>;
  open(options?: { maxPerPeer?: number }): Promise<Opened>;
  cleanup(): Promise<void>;
}

function fileBackend(): Backend {
  let dir = '';
  return {
    name: 'files',
    fresh: async () => {
      dir = await mkdtemp(join(tmpdir(), 'koi-store-contract-'));
    },
    open: async (options = {}) => {
      const knowledge = await Cache.open(join(dir, 'cache'));
      const queues = await EventQueues.open(join(dir, 'event_queues.json'), { maxPerPeer: options.maxPerPeer });
      const inbox = await Inbox.open(join(dir, 'inbox.log'), { checkpointDelayMs: 10 });
      return {
        knowledge,
        queues,
        inbox,
        close: async () => {
          await inbox.close();
          await queues.close();
          await knowledge.close();
        },
      };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function postgresBackend(): Backend {
  let url = '';
  return {
    name: 'postgres',
    fresh: async () => {
      url = await freshDatabase('koi_contract');
    },
    open: async (options = {}) => {
      const store = await openPostgresStore(url);
      const queues = await store.openQueues({ maxPerPeer: options.maxPerPeer });
      const inbox = await store.openInbox({ checkpointDelayMs: 10 });
      return {
        knowledge: store.knowledge,
        queues,
        inbox,
        close: async () => {
          await inbox.close();
          await queues.close();
          await store.close();
        },
      };
    },
    cleanup: async () => undefined,
  };
}

const thing = (n: number): RID => RID.fromString(`orn:test.thing:${n}`);
const other = (n: number): RID => RID.fromString(`orn:test.other:${n}`);
const bundleOf = (rid: RID, n: number): Bundle => Bundle.generate(rid, { n, text: `value ${n}`, nested: { list: [1, 2, n] } });
// Made once per n, so that every call names the same event (a bundle's timestamp is its creation's).
const events = new Map<number, Event>();
const eventOf = (n: number): Event => {
  let e = events.get(n);
  if (!e) events.set(n, (e = Event.fromBundle(bundleOf(thing(n), n), EventType.NEW)));
  return e;
};
const rids = (events: readonly Event[]): string[] => events.map((e) => String(e.rid));

for (const backend of [fileBackend(), postgresBackend()]) {
  describe(`store contract: ${backend.name}`, function () {
    this.timeout(60_000);
    let s: Opened;
    const peer = String(KoiNetNode.generate('peer'));
    const poller = String(KoiNetNode.generate('poller'));

    beforeEach(async () => {
      await backend.fresh();
      s = await backend.open();
    });
    afterEach(async () => {
      await s.close();
      await backend.cleanup();
    });

    const reopen = async (options?: { maxPerPeer?: number }): Promise<void> => {
      await s.close();
      s = await backend.open(options);
    };

    it('fetch bundles: request order kept, missing and unparsable RIDs in not_found, repeats answered at each place', async () => {
      const written = [bundleOf(thing(1), 1), bundleOf(thing(2), 2), bundleOf(other(3), 3)];
      for (const b of written) await s.knowledge.write(b);
      const answers = new ResponseHandler({ cache: s.knowledge });
      const asked = [String(other(3)), String(thing(9)), String(thing(1)), 'not a rid', String(thing(1)), String(thing(2))];
      const reply = await answers.fetchBundles({ rids: asked });
      expect(reply.bundles.map((b) => b.manifest.rid)).to.deep.equal([String(other(3)), String(thing(1)), String(thing(1)), String(thing(2))]);
      expect(reply.bundles[0]).to.deep.equal(written[2]!.toJSON());
      expect(reply.not_found).to.deep.equal([String(thing(9)), 'not a rid']);
      // The serialized answer (what the server sends) says the same.
      const text = JSON.parse((await answers.fetchBundlesJson({ rids: asked })).toString('utf8')) as { bundles: { manifest: { rid: string } }[]; not_found: string[] };
      expect(text.bundles.map((b) => b.manifest.rid)).to.deep.equal(reply.bundles.map((b) => b.manifest.rid));
      expect(text.not_found).to.deep.equal(reply.not_found);
      expect((await answers.fetchBundles({ rids: [] })).bundles).to.deep.equal([]);
      // A batch past one round trip's worth (PostgreSQL answers it with one query).
      const many = Array.from({ length: 300 }, (_, i) => thing(1000 + i));
      for (const [i, rid] of many.entries()) if (i % 3 !== 0) await s.knowledge.write(bundleOf(rid, i));
      const big = await answers.fetchBundles({ rids: many.map(String) });
      expect(big.bundles.map((b) => b.manifest.rid)).to.deep.equal(many.filter((_, i) => i % 3 !== 0).map(String));
      expect(big.not_found).to.deep.equal(many.filter((_, i) => i % 3 === 0).map(String));
    });

    it('knowledge: write, read, exists, readManifest, delete, listRids by type, drop', async () => {
      const a = bundleOf(thing(1), 1);
      const b = bundleOf(thing(2), 2);
      const c = bundleOf(other(3), 3);
      for (const x of [a, b, c]) await s.knowledge.write(x);
      expect(s.knowledge.size).to.equal(3);
      expect(s.knowledge.exists(thing(1))).to.equal(true);
      expect(s.knowledge.exists(thing(9))).to.equal(false);
      expect(s.knowledge.readManifest(thing(2))?.sha256Hash).to.equal(b.manifest.sha256Hash);
      expect(s.knowledge.readManifest(thing(2))?.timestamp).to.equal(b.manifest.timestamp);
      const read = await s.knowledge.read(thing(1));
      expect(read?.toJSON()).to.deep.equal(a.toJSON());
      expect(await s.knowledge.read(thing(9))).to.equal(undefined);
      expect(s.knowledge.listRids(['orn:test.thing']).map(String).sort()).to.deep.equal([String(thing(1)), String(thing(2))]);
      expect(s.knowledge.listRids(['orn:test.other']).map(String)).to.deep.equal([String(other(3))]);
      expect(s.knowledge.listRids().length).to.equal(3);
      // A rewrite replaces.
      const a2 = Bundle.generate(thing(1), { n: 100 });
      await s.knowledge.write(a2);
      expect((await s.knowledge.read(thing(1)))?.contents).to.deep.equal({ n: 100 });
      expect(s.knowledge.size).to.equal(3);
      expect(await s.knowledge.delete(thing(2))).to.equal(true);
      expect(await s.knowledge.delete(thing(2))).to.equal(false);
      expect(s.knowledge.exists(thing(2))).to.equal(false);
      expect(await s.knowledge.read(thing(2))).to.equal(undefined);
      await s.knowledge.drop();
      expect(s.knowledge.size).to.equal(0);
      expect(s.knowledge.listRids()).to.deep.equal([]);
      expect(await s.knowledge.read(thing(1))).to.equal(undefined);
    });

    it('knowledge: a close and reopen sees the same bundles and manifests', async () => {
      const a = bundleOf(thing(1), 1);
      const c = bundleOf(other(3), 3);
      await s.knowledge.write(a);
      await s.knowledge.write(bundleOf(thing(2), 2));
      await s.knowledge.write(c);
      await s.knowledge.delete(thing(2));
      await reopen();
      expect(s.knowledge.size).to.equal(2);
      expect(s.knowledge.listRids(['orn:test.other']).map(String)).to.deep.equal([String(other(3))]);
      expect(s.knowledge.readManifest(thing(1))?.toJSON()).to.deep.equal(a.manifest.toJSON());
      expect((await s.knowledge.read(other(3)))?.toJSON()).to.deep.equal(c.toJSON());
      expect(s.knowledge.exists(thing(2))).to.equal(false);
    });

    it('queues: push, peek, take, requeue to the front, ack, drain, depths', async () => {
      for (let i = 1; i <= 4; i++) await s.queues.pushWebhook(peer, eventOf(i));
      for (let i = 10; i <= 12; i++) await s.queues.pushPoll(poller, eventOf(i));
      expect(s.queues.webhookNodes()).to.deep.equal([peer]);
      expect(s.queues.pollNodes()).to.deep.equal([poller]);
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([1, 2, 3, 4].map(eventOf)));
      expect(s.queues.peekWebhookLength(peer)).to.equal(4);

      const taken = await s.queues.takeWebhook(peer, 2);
      expect(rids(taken)).to.deep.equal(rids([eventOf(1), eventOf(2)]));
      expect(s.queues.depths()).to.deep.include({ webhook: { [peer]: 2 }, poll: { [poller]: 3 }, webhookInflight: { [peer]: 2 } });
      await s.queues.requeueWebhookFront(peer, taken);
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([1, 2, 3, 4].map(eventOf)));
      expect(s.queues.depths().webhookInflight).to.deep.equal({});

      // A failed batch of which only some events come back (the rest refused): those go first.
      const again = await s.queues.takeWebhook(peer, 3);
      await s.queues.requeueWebhookFront(peer, [again[2]!, again[0]!]);
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([3, 1, 4].map(eventOf)));

      await s.queues.takeWebhook(peer, 2);
      await s.queues.ackWebhook(peer);
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([eventOf(4)]));

      expect(rids(await s.queues.drainPoll(poller, 2))).to.deep.equal(rids([eventOf(10), eventOf(11)]));
      expect(rids(await s.queues.drainPoll(poller))).to.deep.equal(rids([eventOf(12)]));
      expect(await s.queues.drainPoll(poller)).to.deep.equal([]);
      expect(s.queues.pollNodes()).to.deep.equal([]);
      await s.queues.flushed();
    });

    it('queues: what was queued survives a reopen, and a batch left in flight goes back to the front', async () => {
      for (let i = 1; i <= 3; i++) await s.queues.pushWebhook(peer, eventOf(i));
      await s.queues.pushPoll(poller, eventOf(7));
      await s.queues.takeWebhook(peer, 2);
      await reopen();
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([1, 2, 3].map(eventOf)));
      expect(rids(s.queues.peekPoll(poller))).to.deep.equal(rids([eventOf(7)]));
      expect(s.queues.peekWebhook(peer)[0]!.toJSON()).to.deep.equal(eventOf(1).toJSON());
      // Drained and acknowledged events stay gone after another reopen.
      await s.queues.drainPoll(poller);
      await s.queues.takeWebhook(peer, 1);
      await s.queues.ackWebhook(peer);
      await reopen();
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([2, 3].map(eventOf)));
      expect(s.queues.peekPoll(poller)).to.deep.equal([]);
    });

    it('queues: a full queue drops its oldest event, also across a reopen', async () => {
      await reopen({ maxPerPeer: 3 });
      for (let i = 1; i <= 5; i++) await s.queues.pushWebhook(peer, eventOf(i));
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([3, 4, 5].map(eventOf)));
      expect(s.queues.depths().dropped).to.deep.equal({ [`webhook:${peer}`]: 2 });
      await reopen({ maxPerPeer: 3 });
      expect(rids(s.queues.peekWebhook(peer))).to.deep.equal(rids([3, 4, 5].map(eventOf)));
    });

    it('queues: a burst of pushes to many peers at once (a fan-out) keeps each queue in order and capped, across a reopen', async () => {
      await reopen({ maxPerPeer: 3 });
      const peers = ['orn:koi-net.node:a+1', 'orn:koi-net.node:b+2', 'orn:koi-net.node:c+3'];
      // Not awaited one by one: the pushes of one burst may share a write.
      await Promise.all([1, 2, 3, 4, 5].flatMap((i) => peers.map((p) => (p.endsWith('3') ? s.queues.pushPoll(p, eventOf(i)) : s.queues.pushWebhook(p, eventOf(i))))));
      const expected = rids([3, 4, 5].map(eventOf));
      const check = (): void => {
        expect(rids(s.queues.peekWebhook(peers[0]!))).to.deep.equal(expected);
        expect(rids(s.queues.peekWebhook(peers[1]!))).to.deep.equal(expected);
        expect(rids(s.queues.peekPoll(peers[2]!))).to.deep.equal(expected);
      };
      check();
      await reopen({ maxPerPeer: 3 });
      check();
      expect(rids(await s.queues.drainPoll(peers[2]!))).to.deep.equal(expected);
    });

    it('queues and inbox keep any valid JSON string, \\u0000 included', async () => {
      const odd = Event.fromBundle(Bundle.generate(thing(50), { text: 'nul \u0000 and emoji \u{1F600}' }), EventType.NEW);
      await s.queues.pushWebhook(peer, odd);
      const appended = s.inbox.append([odd.toJSON()]);
      await appended.done;
      await reopen();
      expect(s.queues.peekWebhook(peer)[0]!.toJSON()).to.deep.equal(odd.toJSON());
      expect(s.inbox.recovered[0]!.events).to.deep.equal([odd.toJSON()]);
    });

    it('inbox: appended batches past the checkpoint are recovered after a reopen, processed ones are not', async () => {
      const wire = (n: number): unknown => eventOf(n).toJSON();
      const first = s.inbox.append([wire(1)]);
      const second = s.inbox.append([wire(2), wire(3)]);
      const body = Buffer.from(JSON.stringify({ events: [wire(4)] }));
      const third = s.inbox.append([wire(4)], body);
      await Promise.all([first.done, second.done, third.done]);
      expect([first.seq, second.seq, third.seq]).to.deep.equal([1, 2, 3]);
      expect(s.inbox.lastSeq).to.equal(3);
      s.inbox.markProcessed(1);
      await s.inbox.flushCheckpoint();
      await reopen();
      expect(s.inbox.processedSeq).to.equal(1);
      expect(s.inbox.lastSeq).to.equal(3);
      expect(s.inbox.recovered.map((e) => e.seq)).to.deep.equal([2, 3]);
      expect(s.inbox.recovered[0]!.events).to.deep.equal([wire(2), wire(3)]);
      expect(s.inbox.recovered[1]!.events).to.deep.equal([wire(4)]);
      // New appends continue the sequence; processing everything leaves nothing to replay.
      const fourth = s.inbox.append([wire(5)]);
      await fourth.done;
      expect(fourth.seq).to.equal(4);
      s.inbox.markProcessed(4);
      await reopen();
      expect(s.inbox.recovered).to.deep.equal([]);
      expect(s.inbox.lastSeq).to.equal(4);
    });
  });
}
