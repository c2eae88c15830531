import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Inbox } from '../../../src/inbox/index.ts';

const wire = (n: number): unknown => ({ rid: `orn:test.thing:${n}`, event_type: 'NEW', manifest: null, contents: null });
const seqsOf = (inbox: Inbox): number[] => inbox.recovered.map((e) => e.seq);

describe('inbox/Inbox: append-only log with checkpoint', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-inbox-'));
    path = join(dir, 'inbox.log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends one line per batch with increasing seq; an unclosed inbox replays them all in order', async () => {
    const inbox = await Inbox.open(path);
    const a = inbox.append([wire(1), wire(2)]);
    const b = inbox.append([wire(3)]);
    await Promise.all([a.done, b.done]);
    expect([a.seq, b.seq]).to.deep.equal([1, 2]);
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).to.have.length(3); // two lines and the empty tail after the last newline
    expect(JSON.parse(lines[0]!)).to.deep.equal({ seq: 1, events: [wire(1), wire(2)] });
    // Simulated crash: no close(), a new process opens the same file.
    const again = await Inbox.open(path);
    expect(again.recovered).to.deep.equal([
      { seq: 1, events: [wire(1), wire(2)] },
      { seq: 2, events: [wire(3)] },
    ]);
    expect(again.append([wire(4)]).seq).to.equal(3);
  });

  it('a one-line request body is logged as it came and replays to the same events; any other body is serialized', async () => {
    const inbox = await Inbox.open(path);
    const events = [wire(1), { ...(wire(2) as object), contents: { text: 'caf\u00e9 \u2028 "q"', n: [1, 2] } }];
    const raw = Buffer.from(JSON.stringify({ events, extra: 'kept' }), 'utf8');
    const a = inbox.append(events, raw);
    // A body with a line break (pretty-printed) would split the line: serialized instead.
    const pretty = Buffer.from(JSON.stringify({ events: [wire(3)] }, null, 2), 'utf8');
    const b = inbox.append([wire(3)], pretty);
    // Leading whitespace or a BOM: not the object itself, serialized too.
    const c = inbox.append([wire(4)], Buffer.from(` ${JSON.stringify({ events: [wire(4)] })}`, 'utf8'));
    await Promise.all([a.done, b.done, c.done]);
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).to.have.length(4);
    expect(lines[0]).to.equal(`{"seq":1,"body":${raw.toString('utf8')}}`);
    expect(JSON.parse(lines[1]!)).to.deep.equal({ seq: 2, events: [wire(3)] });
    expect(JSON.parse(lines[2]!)).to.deep.equal({ seq: 3, events: [wire(4)] });
    const again = await Inbox.open(path);
    expect(again.recovered).to.deep.equal([
      { seq: 1, events },
      { seq: 2, events: [wire(3)] },
      { seq: 3, events: [wire(4)] },
    ]);
  });

  it('a logged body survives compaction byte for byte', async () => {
    const inbox = await Inbox.open(path, { compactBytes: 1, checkpointDelayMs: 1 });
    const raw = (n: number): Buffer => Buffer.from(JSON.stringify({ events: [wire(n)] }), 'utf8');
    await inbox.append([wire(1)], raw(1)).done;
    await inbox.append([wire(2)], raw(2)).done;
    inbox.markProcessed(1);
    await inbox.flushCheckpoint();
    expect(inbox.stats().compactions).to.equal(1);
    expect(await readFile(path, 'utf8')).to.equal(`{"seq":2,"body":${raw(2).toString('utf8')}}\n`);
    const again = await Inbox.open(path);
    expect(again.recovered).to.deep.equal([{ seq: 2, events: [wire(2)] }]);
  });

  it('concurrent appends share write calls and keep seq order in the file', async () => {
    const inbox = await Inbox.open(path);
    const pending = Array.from({ length: 50 }, (_, i) => inbox.append([wire(i)]));
    await Promise.all(pending.map((p) => p.done));
    expect(inbox.stats().writes).to.be.lessThan(50);
    const seqs = (await readFile(path, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('a torn final line (a request never acknowledged) is skipped and cut off; later appends stay readable', async () => {
    const inbox = await Inbox.open(path);
    await inbox.append([wire(1)]).done;
    await appendFile(path, '{"seq":2,"events":[{"rid":"orn:te');
    const again = await Inbox.open(path);
    expect(seqsOf(again)).to.deep.equal([1]);
    expect(again.stats().skippedLines).to.equal(1);
    await again.append([wire(5)]).done;
    const third = await Inbox.open(path);
    expect(third.recovered.map((e) => e.events)).to.deep.equal([[wire(1)], [wire(5)]]);
  });

  it('the checkpoint hides processed entries from recovery; seq continues after it', async () => {
    const inbox = await Inbox.open(path, { checkpointDelayMs: 5 });
    for (let i = 1; i <= 4; i++) await inbox.append([wire(i)]).done;
    inbox.markProcessed(2);
    await inbox.flushCheckpoint();
    expect(JSON.parse(await readFile(`${path}.checkpoint`, 'utf8'))).to.deep.equal({ seq: 2 });
    const again = await Inbox.open(path);
    expect(seqsOf(again)).to.deep.equal([3, 4]);
    expect(again.append([]).seq).to.equal(5);
  });

  it('checkpoint writes are coalesced', async () => {
    const inbox = await Inbox.open(path, { checkpointDelayMs: 30 });
    for (let i = 1; i <= 20; i++) {
      await inbox.append([wire(i)]).done;
      inbox.markProcessed(i);
    }
    await new Promise((r) => setTimeout(r, 80));
    expect(inbox.stats().checkpoints).to.be.within(1, 3);
    expect(inbox.stats().checkpointSeq).to.equal(20);
    await inbox.close();
  });

  it('compaction keeps only unprocessed entries, and seq stays monotonic after it', async () => {
    const inbox = await Inbox.open(path, { compactBytes: 2_000, checkpointDelayMs: 1 });
    const big = 'x'.repeat(200);
    for (let i = 1; i <= 20; i++) await inbox.append([{ n: i, big }]).done;
    inbox.markProcessed(17);
    await inbox.flushCheckpoint();
    expect(inbox.stats().compactions).to.equal(1);
    expect((await stat(path)).size).to.be.lessThan(2_000);
    await inbox.append([{ n: 21 }]).done;
    const again = await Inbox.open(path, { compactBytes: 2_000 });
    expect(seqsOf(again)).to.deep.equal([18, 19, 20, 21]);
    // Everything processed: the next compaction leaves an empty log and numbering goes on.
    again.markProcessed(21);
    for (let i = 22; i <= 40; i++) await again.append([{ n: i, big }]).done;
    again.markProcessed(40);
    await again.flushCheckpoint();
    expect((await stat(path)).size).to.equal(0);
    await again.close();
    const third = await Inbox.open(path);
    expect(third.recovered).to.deep.equal([]);
    expect(third.append([]).seq).to.equal(41);
  });

  it('a compaction while the cache catches up keeps the entries processed after the checkpoint target (a crash replays them)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A long checkpoint delay: only flushCheckpoint() writes one, so the interleaving is exact.
    const inbox = await Inbox.open(path, { compactBytes: 2_000, checkpointDelayMs: 60_000, beforeCheckpoint: () => gate });
    const big = 'x'.repeat(200);
    for (let i = 1; i <= 30; i++) await inbox.append([{ n: i, big }]).done;
    inbox.markProcessed(20);
    const first = inbox.flushCheckpoint(); // target 20, waiting for the cache
    // Processed meanwhile, but their cache files are not known to be on disk yet.
    inbox.markProcessed(28);
    release();
    await first; // checkpoint 20 written, then the log (over 2,000 bytes, two thirds passed) compacted
    expect(inbox.stats().checkpointSeq).to.equal(20);
    expect(inbox.stats().compactions).to.equal(1);
    // SIGKILL here: reopen without close. 21..28 must come back, or they are lost.
    const again = await Inbox.open(path);
    expect(seqsOf(again)).to.deep.equal([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    await again.close();
    await inbox.close();
  });

  it('does not compact while more than half of the log is still past the checkpoint (a long burst whose files follow behind)', async () => {
    const inbox = await Inbox.open(path, { compactBytes: 2_000, checkpointDelayMs: 60_000 });
    const big = 'x'.repeat(200);
    for (let i = 1; i <= 30; i++) await inbox.append([{ n: i, big }]).done;
    inbox.markProcessed(10);
    await inbox.flushCheckpoint();
    // 20 of 30 lines would be kept: rewriting them now would copy most of the file for little.
    expect(inbox.stats().checkpointSeq).to.equal(10);
    expect(inbox.stats().compactions).to.equal(0);
    inbox.markProcessed(25);
    await inbox.flushCheckpoint();
    expect(inbox.stats().compactions).to.equal(1);
    await inbox.close();
    expect(seqsOf(await Inbox.open(path))).to.deep.equal([26, 27, 28, 29, 30]);
  });

  it('an unreadable checkpoint replays the whole log rather than losing anything', async () => {
    const inbox = await Inbox.open(path);
    await inbox.append([wire(1)]).done;
    await writeFile(`${path}.checkpoint`, 'garbage');
    expect(seqsOf(await Inbox.open(path))).to.deep.equal([1]);
  });
  it('the checkpoint waits for beforeCheckpoint (the cache sync) and is not written when it fails', async () => {
    let release!: () => void;
    let fail = false;
    const gate = new Promise<void>((r) => (release = r));
    const inbox = await Inbox.open(path, {
      checkpointDelayMs: 1,
      beforeCheckpoint: async () => {
        await gate;
        if (fail) throw new Error('cache write failed');
      },
    });
    await inbox.append([{ n: 1 }]).done;
    inbox.markProcessed(1);
    const flushed = inbox.flushCheckpoint();
    // Appends are not held up while the checkpoint waits for the cache.
    await inbox.append([{ n: 2 }]).done;
    expect(inbox.stats().checkpointSeq).to.equal(0);
    release();
    await flushed;
    expect(inbox.stats().checkpointSeq).to.equal(1);
    fail = true;
    inbox.markProcessed(2);
    let thrown: unknown;
    await inbox.flushCheckpoint().catch((err: unknown) => (thrown = err));
    expect(thrown).to.be.instanceOf(Error);
    expect(inbox.stats().checkpointSeq).to.equal(1);
  });
});
