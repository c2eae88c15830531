import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runUntilKilled } from '../../helpers/kill-mid-run.ts';
import { Bundle, Event, EventType, eventsPayloadText } from '../../../src/knowledge/index.ts';
import { EventQueues, eventsPayloadBytes, eventsPayloadParts } from '../../../src/queues/index.ts';

const PEER = 'orn:koi-net.node:peer+00000000-0000-4000-8000-000000000001';
const NO_IDLE = { idleCompactMs: 0 } as const;
const rids = (events: readonly Event[]): string[] => events.map((e) => String(e.rid));

describe('queues/wire: webhook bodies and poll answers from shared event bytes', () => {
  const contents = (i: number): Record<string, unknown> => ({
    i,
    // Non-ASCII texts (two-, three- and four-byte UTF-8, an escaped control character) move byte offsets away from string offsets.
    text: i % 3 === 0 ? `é ü ✓ 🙂 ${i} \u0001` : `plain ${i}`,
  });
  const pool = (n: number): Event[] =>
    Array.from({ length: n }, (_, i) =>
      i % 7 === 3 ? Event.fromRid(`orn:test.item:${i}`, EventType.FORGET) : Event.fromBundle(Bundle.generate(`orn:test.item:${i}`, contents(i)), EventType.NEW),
    );
  const joined = (p: { parts: readonly Buffer[]; length: number }): Buffer => {
    const bytes = Buffer.concat(p.parts);
    expect(bytes.length).to.equal(p.length);
    return bytes;
  };

  it('every body is byte-identical to eventsPayloadText, whatever the cuts, overlaps and repeats (seeded property)', () => {
    // mulberry32: a fixed seed, so a failure is reproducible.
    let seed = 12;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    for (let round = 0; round < 30; round++) {
      const events = pool(60);
      for (let body = 0; body < 40; body++) {
        // A window of the pool (peers' batches of one queue), sometimes with a repeated or skipped event.
        const from = Math.floor(random() * events.length);
        const to = from + Math.floor(random() * (events.length - from + 1));
        const batch = events.slice(from, to);
        if (batch.length > 2 && random() < 0.3) batch.splice(Math.floor(random() * batch.length), 1);
        if (batch.length > 0 && random() < 0.3) batch.push(batch[Math.floor(random() * batch.length)]!);
        if (random() < 0.2) batch.reverse();
        const expected = Buffer.from(eventsPayloadText(batch), 'utf8');
        expect(joined(eventsPayloadParts(batch)).equals(expected), `round ${round} body ${body}`).to.equal(true);
        expect(eventsPayloadBytes(batch).equals(expected)).to.equal(true);
      }
    }
  });

  it('an empty list is {"events":[]}', () => {
    expect(joined(eventsPayloadParts([])).toString()).to.equal('{"events":[]}');
  });

  it('a second body over the same events copies nothing: it is views of the first one\'s bytes', () => {
    const events = pool(20);
    const first = eventsPayloadParts(events);
    const later = eventsPayloadParts(events.slice(5, 15));
    // OPEN, one stretch, CLOSE: the stretch is a view into the buffer the first body made.
    expect(later.parts).to.have.length(3);
    expect(later.parts[1]!.buffer).to.equal(first.parts[1]!.buffer);
    expect(joined(later).toString()).to.equal(eventsPayloadText(events.slice(5, 15)));
  });
});

describe('queues/file-store: pushMany, a fan-out in one record', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-fanout-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const journalText = async (sub: string): Promise<string> => {
    const names = (await readdir(join(dir, sub))).filter((n) => n.includes('.journal-')).sort();
    return (await Promise.all(names.map((n) => readFile(join(dir, sub, n), 'utf8')))).join('');
  };

  it('writes the same journal and holds the same queues as one push per queue in that order', async () => {
    const single = await EventQueues.open(join(dir, 'single', 'q.json'), NO_IDLE);
    const many = await EventQueues.open(join(dir, 'many', 'q.json'), NO_IDLE);
    const events = Array.from({ length: 5 }, (_, i) => Event.fromRid(`orn:test.item:${i}`, EventType.NEW));
    const webhook = ['w1', 'w2', 'w3'];
    const poll = ['p1', 'p2'];
    for (const event of events) {
      for (const w of webhook) void single.pushWebhook(w, event);
      for (const p of poll) void single.pushPoll(p, event);
      void many.pushMany(event, webhook, poll);
    }
    // Something between two fan-outs, so a record must not absorb the next push.
    await Promise.all([single.drainPoll('p1', 2), many.drainPoll('p1', 2)]);
    await many.pushMany(events[0]!, ['w1'], ['p1']);
    void single.pushWebhook('w1', events[0]!);
    await single.pushPoll('p1', events[0]!);
    await Promise.all([single.flushed(), many.flushed()]);
    expect(await journalText('many')).to.equal(await journalText('single'));
    for (const q of [single, many]) {
      expect(rids(q.peekWebhook('w1'))).to.deep.equal([...rids(events), 'orn:test.item:0']);
      expect(rids(q.peekPoll('p1'))).to.deep.equal([...rids(events.slice(2)), 'orn:test.item:0']);
      expect(q.storedEvents).to.equal(5);
    }
    // And the journal replays to the same queues.
    await many.close();
    const reopened = await EventQueues.open(join(dir, 'many', 'q.json'), NO_IDLE);
    expect(rids(reopened.peekWebhook('w3'))).to.deep.equal(rids(events));
    expect(rids(reopened.peekPoll('p2'))).to.deep.equal(rids(events));
    await reopened.close();
    await single.close();
  });

  it('no targets: nothing changes', async () => {
    const q = await EventQueues.open(join(dir, 'q.json'), NO_IDLE);
    await q.pushMany(Event.fromRid('orn:test.item:1', EventType.NEW), [], []);
    expect(q.storedEvents).to.equal(0);
    expect(q.writeCount).to.equal(0);
    await q.close();
  });

  for (const [label, compact, killAt] of [
    ['', '-', 203],
    [' while compacting often', '2048', 1203],
  ] as const) it(`SIGKILL mid-fan-out: every acknowledged event is in all five queues, in order${label}`, async function () {
    this.timeout(60_000);
    const file = join(dir, 'state', 'event_queues.json');
    const script = fileURLToPath(new URL('../network/fixtures/queue-pusher.ts', import.meta.url));
    const { acked, signal } = await runUntilKilled(script, [file, PEER, '100000', compact, 'fanout'], (a) => (a.at(-1) ?? 0) >= killAt);
    expect(signal).to.equal('SIGKILL');
    const q = await EventQueues.open(file, NO_IDLE);
    const queues = [
      ...[0, 1, 2].map((k) => q.peekWebhook(`${PEER}/w${k}`)),
      ...[0, 1].map((k) => q.peekPoll(`${PEER}/q${k}`)),
    ];
    const first = rids(queues[0]!);
    for (const queue of queues) {
      // The same events everywhere (one record per fan-out: all or none of its queues), in push order.
      expect(rids(queue)).to.deep.equal(first);
    }
    const numbers = first.map((r) => Number(r.split(':').pop()));
    expect(numbers).to.deep.equal(Array.from({ length: numbers.length }, (_, i) => i + 1));
    const missing = acked.filter((i) => i > numbers.length);
    expect(missing, `acked but lost: ${missing.join(',')}`).to.deep.equal([]);
    await q.close();
  });
});
