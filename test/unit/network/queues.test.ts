import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runUntilKilled } from '../../helpers/kill-mid-run.ts';
import { Event } from '../../../src/knowledge/index.ts';
import { EventQueues } from '../../../src/queues/index.ts';
import { collectingLogger } from '../../helpers/logger.ts';


const PEER = 'orn:koi-net.node:peer+00000000-0000-4000-8000-000000000001';
const OTHER = 'orn:koi-net.node:other+00000000-0000-4000-8000-000000000002';

const ev = (i: number, type: 'NEW' | 'UPDATE' | 'FORGET' = 'NEW'): Event => Event.fromRid(`orn:test.item:${i}`, type);
const rids = (events: readonly Event[]): string[] => events.map((e) => String(e.rid));
const items = (...ns: number[]): string[] => ns.map((n) => `orn:test.item:${n}`);

/** For instances a test abandons as if crashed: no timer may write after the next instance opened. */
const NO_IDLE = { idleCompactMs: 0 } as const;
const journals = (names: readonly string[]): string[] => names.filter((n) => /\.journal-\d+$/.test(n)).sort();

describe('network/queues: EventQueues', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-queues-'));
    file = join(dir, 'state', 'event_queues.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps webhook and poll queues per node, FIFO', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    await q.pushWebhook(PEER, ev(1));
    await q.pushWebhook(PEER, ev(2));
    await q.pushPoll(PEER, ev(3));
    await q.pushWebhook(OTHER, ev(4));
    expect(q.webhookNodes()).to.have.members([PEER, OTHER]);
    expect(q.depths().webhook).to.deep.equal({ [PEER]: 2, [OTHER]: 1 });
    expect(q.depths().poll).to.deep.equal({ [PEER]: 1 });
    expect(rids(await q.takeWebhook(PEER))).to.deep.equal(items(1, 2));
    expect(await q.takeWebhook(PEER)).to.deep.equal([]);
    expect(q.webhookNodes()).to.deep.equal([OTHER]);
    expect(rids(await q.drainPoll(PEER))).to.deep.equal(items(3));
    expect(await q.drainPoll(PEER)).to.deep.equal([]);
    expect(await q.drainPoll('orn:koi-net.node:nobody+00000000-0000-4000-8000-000000000009')).to.deep.equal([]);
  });

  it('round-trips events through wire JSON', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    const original = ev(7, 'FORGET');
    await q.pushPoll(PEER, original);
    const [back] = await q.drainPoll(PEER);
    expect(back).to.be.instanceOf(Event);
    expect(back!.toJSON()).to.deep.equal(original.toJSON());
  });

  it('drainPoll with a limit returns the oldest first and leaves the rest', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    for (let i = 1; i <= 5; i++) void q.pushPoll(PEER, ev(i));
    await q.flushed();
    expect(rids(await q.drainPoll(PEER, 2))).to.deep.equal(items(1, 2));
    expect(rids(await q.drainPoll(PEER, 10))).to.deep.equal(items(3, 4, 5));
    for (let i = 6; i <= 8; i++) void q.pushPoll(PEER, ev(i));
    expect(rids(await q.drainPoll(PEER, 0))).to.deep.equal(items(6, 7, 8));
    expect(q.depths().poll).to.deep.equal({});
  });

  it('a failed delivery goes back to the FRONT in the original order', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    for (let i = 1; i <= 3; i++) void q.pushWebhook(PEER, ev(i));
    const batch = await q.takeWebhook(PEER);
    // Events queued while the flush was in progress come after the requeued ones.
    await q.pushWebhook(PEER, ev(4));
    await q.requeueWebhookFront(PEER, batch);
    expect(rids(q.peekWebhook(PEER))).to.deep.equal(items(1, 2, 3, 4));
    expect(q.depths().webhookInflight).to.deep.equal({});
    expect(rids(await q.takeWebhook(PEER))).to.deep.equal(items(1, 2, 3, 4));
  });

  it('persists every change and reloads it on open', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    await q.pushWebhook(PEER, ev(1));
    await q.pushPoll(OTHER, ev(2));
    await q.pushPoll(OTHER, ev(3));
    await q.drainPoll(OTHER, 1);
    // Durable without any snapshot: a new instance replays the journal.
    const again = await EventQueues.open(file, NO_IDLE);
    expect(rids(again.peekWebhook(PEER))).to.deep.equal(items(1));
    expect(rids(await again.drainPoll(OTHER))).to.deep.equal(items(3));
    await again.persist();
    const third = await EventQueues.open(file, NO_IDLE);
    expect(rids(third.peekWebhook(PEER))).to.deep.equal(items(1));
    expect(third.pollNodes()).to.deep.equal([]);
  });

  it('persist() writes the snapshot in the reference layout, readable without the journal', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    await q.pushWebhook(PEER, ev(1));
    await q.pushPoll(OTHER, ev(2));
    await q.pushPoll(OTHER, ev(3));
    await q.drainPoll(OTHER, 1);
    await q.persist();
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { webhook: object; poll: object; webhook_inflight: object };
    // The reference's EventQueueModel shape.
    expect(onDisk.webhook).to.deep.equal({ [PEER]: [ev(1).toJSON()] });
    expect(onDisk.poll).to.deep.equal({ [OTHER]: [ev(3).toJSON()] });
    expect(onDisk.webhook_inflight).to.deep.equal({});
    expect(journals(await readdir(join(dir, 'state')))).to.deep.equal([]);
  });

  it('loads a file written by the Python reference (events with null manifest/contents)', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ webhook: { [PEER]: [{ rid: 'orn:test.item:1', event_type: 'NEW', manifest: null, contents: null }] }, poll: {} }),
    );
    const q = await EventQueues.open(file, NO_IDLE);
    expect(rids(await q.takeWebhook(PEER))).to.deep.equal(items(1));
  });

  it('a batch taken but never acked or requeued is re-sent after a restart (at-least-once)', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    await q.pushWebhook(PEER, ev(1));
    await q.pushWebhook(PEER, ev(2));
    await q.takeWebhook(PEER); // "crash" during delivery
    await q.pushWebhook(PEER, ev(3));
    const again = await EventQueues.open(file, NO_IDLE);
    expect(rids(again.peekWebhook(PEER))).to.deep.equal(items(1, 2, 3));

    // An acked batch is gone for good.
    await again.takeWebhook(PEER);
    await again.ackWebhook(PEER);
    const third = await EventQueues.open(file, NO_IDLE);
    expect(third.peekWebhook(PEER)).to.deep.equal([]);
  });

  it('cap: drops the OLDEST event and warns once per burst', async () => {
    const log = collectingLogger();
    const q = await EventQueues.open(file, { ...NO_IDLE, maxPerPeer: 3, logger: log });
    for (let i = 1; i <= 6; i++) void q.pushPoll(PEER, ev(i));
    await q.flushed();
    expect(rids(q.peekPoll(PEER))).to.deep.equal(items(4, 5, 6));
    expect(log.messages().filter((l) => l.includes('queue full'))).to.have.length(1);
    expect(q.depths().dropped).to.deep.equal({ [`poll:${PEER}`]: 3 });

    // Draining below the cap ends the burst; the next overflow warns again.
    await q.drainPoll(PEER, 1);
    for (let i = 7; i <= 9; i++) await q.pushPoll(PEER, ev(i));
    expect(rids(q.peekPoll(PEER))).to.deep.equal(items(7, 8, 9));
    expect(log.messages().filter((l) => l.includes('queue full'))).to.have.length(2);

    // Queues are capped independently; a requeue over the cap also drops the oldest.
    for (let i = 10; i <= 12; i++) await q.pushWebhook(PEER, ev(i));
    const batch = await q.takeWebhook(PEER);
    await q.pushWebhook(PEER, ev(13));
    await q.requeueWebhookFront(PEER, batch);
    expect(rids(q.peekWebhook(PEER))).to.deep.equal(items(11, 12, 13));
    expect(rids(q.peekPoll(PEER))).to.deep.equal(items(7, 8, 9));
  });

  it('the default cap is 10,000 per queue', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    for (let i = 0; i < 10_005; i++) void q.pushWebhook(PEER, ev(i));
    await q.flushed();
    const queued = q.peekWebhook(PEER);
    expect(queued).to.have.length(10_000);
    expect(String(queued[0]!.rid)).to.equal('orn:test.item:5');
  });

  it('moves a corrupt file aside with a warning and starts empty', async () => {
    const log = collectingLogger();
    const q0 = await EventQueues.open(file, NO_IDLE);
    await q0.pushPoll(PEER, ev(1));
    await q0.persist();
    await q0.pushPoll(PEER, ev(3)); // in the journal, which only makes sense on top of the snapshot
    await writeFile(file, '{"webhook": {"x": [trunc');
    const q = await EventQueues.open(file, { ...NO_IDLE, logger: log });
    expect(q.depths().poll).to.deep.equal({});
    expect(log.messages().some((l) => l.includes('corrupt'))).to.equal(true);
    const names = await readdir(join(dir, 'state'));
    const aside = names.filter((n) => n.startsWith('event_queues.json.corrupt-'));
    expect(aside).to.have.length(1);
    expect(await readFile(join(dir, 'state', aside[0]!), 'utf8')).to.equal('{"webhook": {"x": [trunc');
    // A fresh, valid file is in place and usable.
    await q.pushPoll(PEER, ev(2));
    const again = await EventQueues.open(file, NO_IDLE);
    expect(rids(again.peekPoll(PEER))).to.deep.equal(items(2));
  });

  it('treats a wrong shape as corrupt too', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(file, JSON.stringify({ webhook: [1, 2] }));
    const q = await EventQueues.open(file, NO_IDLE);
    expect(q.webhookNodes()).to.deep.equal([]);
    expect((await readdir(join(dir, 'state'))).some((n) => n.includes('.corrupt-'))).to.equal(true);
  });

  it('coalesces writes: 1,000 pushes in one tick -> a few writes, all on disk after awaiting', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    const before = q.writeCount;
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) pushes.push(i % 2 ? q.pushWebhook(PEER, ev(i)) : q.pushPoll(OTHER, ev(i)));
    await Promise.all(pushes);
    expect(q.writeCount - before).to.be.at.most(2);
    const again = await EventQueues.open(file, NO_IDLE);
    expect(again.peekWebhookLength(PEER)).to.equal(500);
    expect(again.peekPoll(OTHER)).to.have.length(500);
  });

  it('coalesces writes while a write is in flight, and never loses a change', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    const before = q.writeCount;
    const pushes: Promise<void>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) pushes.push(q.pushPoll(PEER, ev(round * 50 + i)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pushes);
    expect(q.writeCount - before).to.be.lessThan(1000 / 10);
    const again = await EventQueues.open(file, NO_IDLE);
    expect(rids(again.peekPoll(PEER))).to.deep.equal(Array.from({ length: 1000 }, (_, i) => `orn:test.item:${i}`));
  });

  it('persist() and flushed() resolve once the state is on disk', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    void q.pushPoll(PEER, ev(1));
    await q.flushed();
    expect((await EventQueues.open(file, NO_IDLE)).peekPoll(PEER)).to.have.length(1);
    void q.pushPoll(PEER, ev(2));
    await q.persist();
    expect(JSON.parse(await readFile(file, 'utf8')).poll[PEER]).to.have.length(2);
    await q.flushed();
  });

  for (const [label, compactBytes, killAt] of [
    ['', undefined, 203],
    [' while compacting often', 2048, 1203],
  ] as const) it(`never loses an acknowledged event when the process is SIGKILLed${label}`, async function () {
    this.timeout(60_000);
    const script = fileURLToPath(new URL('./fixtures/queue-pusher.ts', import.meta.url));
    // Kill at an odd moment: mid-burst, while later pushes are being written.
    const { acked, signal } = await runUntilKilled(script, [file, PEER, '100000', ...(compactBytes === undefined ? [] : [String(compactBytes)])], (a) => (a.at(-1) ?? 0) >= killAt);
    expect(signal).to.equal('SIGKILL');
    const q = await EventQueues.open(file, NO_IDLE);
    const onDisk = new Set([...rids(q.peekWebhook(PEER)), ...rids(q.peekPoll(PEER))]);
    const missing = acked.filter((i) => !onDisk.has(`orn:test.item:${i}`));
    expect(missing, `acked but lost: ${missing.join(',')}`).to.deep.equal([]);
    expect(acked).to.deep.equal(Array.from({ length: acked.length }, (_, i) => i + 1));
    // Order within each queue is preserved.
    const webhookNumbers = rids(q.peekWebhook(PEER)).map((r) => Number(r.split(':').pop()));
    expect(webhookNumbers).to.deep.equal([...webhookNumbers].sort((a, b) => a - b));
  });
});

describe('network/queues: EventQueues journal and snapshot', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-queues-'));
    file = join(dir, 'state', 'event_queues.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const peer = (i: number): string => `orn:koi-net.node:p${i}+00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const big = (i: number): Event =>
    Event.fromJSON({ rid: `orn:test.item:${i}`, event_type: 'NEW', manifest: null, contents: { pad: 'x'.repeat(1000) } });
  const journalSize = async (): Promise<number> => {
    let total = 0;
    for (const name of journals(await readdir(join(dir, 'state')))) total += (await stat(join(dir, 'state', name))).size;
    return total;
  };

  it('stores an event once however many peers it is queued for, and frees it when the last lets go', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    const event = big(1);
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) pushes.push(q.pushWebhook(peer(i), event));
    for (let i = 50; i < 70; i++) pushes.push(q.pushPoll(peer(i), event));
    await Promise.all(pushes);
    expect(q.storedEvents).to.equal(1);
    // One copy of the ~1 KB event, plus peer names and one push record.
    const bytes = await journalSize();
    expect(bytes).to.be.lessThan(JSON.stringify(event.toJSON()).length + 70 * 100);
    // An equal but distinct object is the same entry too.
    await q.pushPoll(peer(69), big(1));
    expect(q.storedEvents).to.equal(1);

    const again = await EventQueues.open(file, NO_IDLE);
    expect(again.storedEvents).to.equal(1);
    expect(again.webhookNodes()).to.have.length(50);
    expect(again.peekPoll(peer(69))).to.have.length(2);

    for (let i = 0; i < 50; i++) {
      await q.takeWebhook(peer(i));
      await q.ackWebhook(peer(i));
    }
    for (let i = 50; i < 70; i++) await q.drainPoll(peer(i));
    expect(q.storedEvents).to.equal(0);
  });

  it('the cost of a change does not grow with the depth of the queue', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    for (let i = 0; i < 2000; i++) void q.pushPoll(PEER, ev(i));
    await q.flushed();
    const before = await journalSize();
    await q.pushPoll(PEER, ev(5000));
    const one = (await journalSize()) - before;
    expect(one).to.be.lessThan(300);
    await q.drainPoll(PEER, 1);
    expect((await journalSize()) - before - one).to.be.lessThan(100);
  });

  it('ignores a torn final journal line, and appends cleanly after it', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    await q.pushWebhook(PEER, ev(1));
    await q.pushWebhook(PEER, ev(2));
    const [name] = journals(await readdir(join(dir, 'state')));
    await writeFile(join(dir, 'state', name!), '{"o":"p","i":1,"w":[0', { flag: 'a' });
    const again = await EventQueues.open(file, NO_IDLE);
    expect(rids(again.peekWebhook(PEER))).to.deep.equal(items(1, 2));
    await again.pushWebhook(PEER, ev(3));
    const third = await EventQueues.open(file, NO_IDLE);
    expect(rids(third.peekWebhook(PEER))).to.deep.equal(items(1, 2, 3));
  });

  it('moves a corrupt journal aside with a warning and keeps the changes before the bad record', async () => {
    const log = collectingLogger();
    const q = await EventQueues.open(file, NO_IDLE);
    await q.pushPoll(PEER, ev(1));
    const [name] = journals(await readdir(join(dir, 'state')));
    await writeFile(join(dir, 'state', name!), 'not json\n', { flag: 'a' });
    await q.pushPoll(PEER, ev(2));
    const again = await EventQueues.open(file, { ...NO_IDLE, logger: log });
    expect(rids(again.peekPoll(PEER))).to.deep.equal(items(1));
    expect(log.messages().some((l) => l.includes('journal is corrupt'))).to.equal(true);
    expect((await readdir(join(dir, 'state'))).some((n) => n.includes('.journal-') && n.includes('.corrupt-'))).to.equal(true);
  });

  it('compacts past the threshold in the background and loses nothing', async () => {
    const q = await EventQueues.open(file, { ...NO_IDLE, compactBytes: 4096 });
    let next = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) {
        const e = ev(next++);
        void q.pushWebhook(PEER, e);
        void q.pushPoll(OTHER, e);
      }
      const batch = await q.takeWebhook(PEER, 7);
      if (round % 3 === 0) await q.requeueWebhookFront(PEER, batch);
      else await q.ackWebhook(PEER);
      await q.drainPoll(OTHER, 4);
    }
    await q.flushed();
    // Reopening while q still writes a snapshot would be two writers: wait for the last to finish.
    for (let i = 0; i < 200 && journals(await readdir(join(dir, 'state'))).length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    const snapshot = JSON.parse(await readFile(file, 'utf8')) as { journal_gen: number };
    expect(snapshot.journal_gen).to.be.greaterThan(0);
    expect(journals(await readdir(join(dir, 'state'))).length).to.be.at.most(1);
    const again = await EventQueues.open(file, NO_IDLE);
    expect(rids(again.peekWebhook(PEER))).to.deep.equal(rids(q.peekWebhook(PEER)));
    expect(rids(again.peekPoll(OTHER))).to.deep.equal(rids(q.peekPoll(OTHER)));
    expect(again.storedEvents).to.equal(q.storedEvents);
  });

  it('a crash after the snapshot rename, before the old journal was deleted: that journal is ignored', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    for (let i = 1; i <= 3; i++) await q.pushWebhook(PEER, ev(i));
    await q.takeWebhook(PEER, 1);
    await q.pushPoll(OTHER, ev(4));
    const j0 = await readFile(`${file}.journal-0`, 'utf8');
    await q.persist(); // snapshot of generation 1
    await q.ackWebhook(PEER);
    await q.pushWebhook(PEER, ev(5));
    await q.drainPoll(OTHER);
    const expected = { webhook: items(2, 3, 5), poll: [] as string[] };

    // Crashed after the rename, before the old journal was deleted: it must be ignored.
    await writeFile(`${file}.journal-0`, j0);
    const a = await EventQueues.open(file, NO_IDLE);
    expect(rids(a.peekWebhook(PEER))).to.deep.equal(expected.webhook);
    expect(rids(a.peekPoll(OTHER))).to.deep.equal(expected.poll);
  });

  it('replays journals in order over an older snapshot (crash before the snapshot rename)', async () => {
    const q = await EventQueues.open(file, NO_IDLE);
    for (let i = 1; i <= 3; i++) await q.pushWebhook(PEER, ev(i));
    await q.takeWebhook(PEER, 2);
    await q.pushPoll(OTHER, ev(4));
    const j0 = await readFile(`${file}.journal-0`, 'utf8');
    await q.persist();
    await q.requeueWebhookFront(PEER, [ev(1), ev(2)]);
    await q.pushWebhook(PEER, ev(5));
    await q.drainPoll(OTHER);
    await q.pushPoll(OTHER, ev(1));
    // As if the snapshot of generation 1 had never been renamed into place.
    await rm(file);
    await writeFile(`${file}.journal-0`, j0);
    const a = await EventQueues.open(file, NO_IDLE);
    expect(rids(a.peekWebhook(PEER))).to.deep.equal(items(1, 2, 3, 5));
    expect(rids(a.peekPoll(OTHER))).to.deep.equal(items(1));
  });

  it('migrates a file in the previous format (with webhook_inflight): in-flight batch first, then a new snapshot', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ webhook: { [PEER]: [ev(3).toJSON()] }, poll: { [OTHER]: [ev(4).toJSON()] }, webhook_inflight: { [PEER]: [ev(1).toJSON(), ev(2).toJSON()] } }, null, 2),
    );
    const q = await EventQueues.open(file, NO_IDLE);
    expect(rids(q.peekWebhook(PEER))).to.deep.equal(items(1, 2, 3));
    expect(rids(q.peekPoll(OTHER))).to.deep.equal(items(4));
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { webhook: Record<string, unknown[]>; journal_gen: number };
    expect(onDisk.webhook[PEER]).to.have.length(3);
    expect(onDisk.journal_gen).to.equal(1);
  });

  it('folds the journal into the snapshot once the queues go quiet', async () => {
    const q = await EventQueues.open(file, { idleCompactMs: 30 });
    await q.pushPoll(PEER, ev(1));
    await q.pushWebhook(OTHER, ev(2));
    await new Promise((r) => setTimeout(r, 300));
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { webhook: Record<string, unknown[]>; poll: Record<string, unknown[]> };
    expect(onDisk.poll[PEER]).to.have.length(1);
    expect(onDisk.webhook[OTHER]).to.have.length(1);
    await q.close();
  });

  it('close() leaves only the snapshot', async () => {
    const q = await EventQueues.open(file);
    await q.pushPoll(PEER, ev(1));
    await q.close();
    expect(journals(await readdir(join(dir, 'state')))).to.deep.equal([]);
    expect(rids((await EventQueues.open(file, NO_IDLE)).peekPoll(PEER))).to.deep.equal(items(1));
  });
});
