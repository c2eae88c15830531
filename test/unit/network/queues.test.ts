import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Event } from '../../../src/knowledge/index.ts';
import { EventQueues } from '../../../src/network/queues.ts';
import type { Logger } from '../../../src/logger.ts';

const PEER = 'orn:koi-net.node:peer+00000000-0000-4000-8000-000000000001';
const OTHER = 'orn:koi-net.node:other+00000000-0000-4000-8000-000000000002';

const ev = (i: number, type: 'NEW' | 'UPDATE' | 'FORGET' = 'NEW'): Event => Event.fromRid(`orn:test.item:${i}`, type);
const rids = (events: readonly Event[]): string[] => events.map((e) => String(e.rid));
const items = (...ns: number[]): string[] => ns.map((n) => `orn:test.item:${n}`);

function collectingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_obj, msg) => void lines.push(msg ?? ''),
    error: (_obj, msg) => void lines.push(msg ?? ''),
    child: () => logger,
  };
  return logger;
}

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
    const q = await EventQueues.open(file);
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
    const q = await EventQueues.open(file);
    const original = ev(7, 'FORGET');
    await q.pushPoll(PEER, original);
    const [back] = await q.drainPoll(PEER);
    expect(back).to.be.instanceOf(Event);
    expect(back!.toJSON()).to.deep.equal(original.toJSON());
  });

  it('drainPoll with a limit returns the oldest first and leaves the rest', async () => {
    const q = await EventQueues.open(file);
    for (let i = 1; i <= 5; i++) void q.pushPoll(PEER, ev(i));
    await q.flushed();
    expect(rids(await q.drainPoll(PEER, 2))).to.deep.equal(items(1, 2));
    expect(rids(await q.drainPoll(PEER, 10))).to.deep.equal(items(3, 4, 5));
    for (let i = 6; i <= 8; i++) void q.pushPoll(PEER, ev(i));
    expect(rids(await q.drainPoll(PEER, 0))).to.deep.equal(items(6, 7, 8));
    expect(q.depths().poll).to.deep.equal({});
  });

  it('a failed delivery goes back to the FRONT in the original order', async () => {
    const q = await EventQueues.open(file);
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
    const q = await EventQueues.open(file);
    await q.pushWebhook(PEER, ev(1));
    await q.pushPoll(OTHER, ev(2));
    await q.pushPoll(OTHER, ev(3));
    await q.drainPoll(OTHER, 1);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { webhook: object; poll: object };
    // The reference's EventQueueModel shape.
    expect(onDisk.webhook).to.deep.equal({ [PEER]: [ev(1).toJSON()] });
    expect(onDisk.poll).to.deep.equal({ [OTHER]: [ev(3).toJSON()] });
    const again = await EventQueues.open(file);
    expect(rids(again.peekWebhook(PEER))).to.deep.equal(items(1));
    expect(rids(await again.drainPoll(OTHER))).to.deep.equal(items(3));
  });

  it('loads a file written by the Python reference (events with null manifest/contents)', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ webhook: { [PEER]: [{ rid: 'orn:test.item:1', event_type: 'NEW', manifest: null, contents: null }] }, poll: {} }),
    );
    const q = await EventQueues.open(file);
    expect(rids(await q.takeWebhook(PEER))).to.deep.equal(items(1));
  });

  it('a batch taken but never acked or requeued is re-sent after a restart (at-least-once)', async () => {
    const q = await EventQueues.open(file);
    await q.pushWebhook(PEER, ev(1));
    await q.pushWebhook(PEER, ev(2));
    await q.takeWebhook(PEER); // "crash" during delivery
    await q.pushWebhook(PEER, ev(3));
    const again = await EventQueues.open(file);
    expect(rids(again.peekWebhook(PEER))).to.deep.equal(items(1, 2, 3));

    // An acked batch is gone for good.
    await again.takeWebhook(PEER);
    await again.ackWebhook(PEER);
    const third = await EventQueues.open(file);
    expect(third.peekWebhook(PEER)).to.deep.equal([]);
  });

  it('cap: drops the OLDEST event and warns once per burst', async () => {
    const lines: string[] = [];
    const q = await EventQueues.open(file, { maxPerPeer: 3, logger: collectingLogger(lines) });
    for (let i = 1; i <= 6; i++) void q.pushPoll(PEER, ev(i));
    await q.flushed();
    expect(rids(q.peekPoll(PEER))).to.deep.equal(items(4, 5, 6));
    expect(lines.filter((l) => l.includes('queue full'))).to.have.length(1);
    expect(q.depths().dropped).to.deep.equal({ [`poll:${PEER}`]: 3 });

    // Draining below the cap ends the burst; the next overflow warns again.
    await q.drainPoll(PEER, 1);
    for (let i = 7; i <= 9; i++) await q.pushPoll(PEER, ev(i));
    expect(rids(q.peekPoll(PEER))).to.deep.equal(items(7, 8, 9));
    expect(lines.filter((l) => l.includes('queue full'))).to.have.length(2);

    // Queues are capped independently; a requeue over the cap also drops the oldest.
    for (let i = 10; i <= 12; i++) await q.pushWebhook(PEER, ev(i));
    const batch = await q.takeWebhook(PEER);
    await q.pushWebhook(PEER, ev(13));
    await q.requeueWebhookFront(PEER, batch);
    expect(rids(q.peekWebhook(PEER))).to.deep.equal(items(11, 12, 13));
    expect(rids(q.peekPoll(PEER))).to.deep.equal(items(7, 8, 9));
  });

  it('the default cap is 10,000 per queue', async () => {
    const q = await EventQueues.open(file);
    for (let i = 0; i < 10_005; i++) void q.pushWebhook(PEER, ev(i));
    await q.flushed();
    const queued = q.peekWebhook(PEER);
    expect(queued).to.have.length(10_000);
    expect(String(queued[0]!.rid)).to.equal('orn:test.item:5');
  });

  it('moves a corrupt file aside with a warning and starts empty', async () => {
    const lines: string[] = [];
    const q0 = await EventQueues.open(file);
    await q0.pushPoll(PEER, ev(1));
    await writeFile(file, '{"webhook": {"x": [trunc');
    const q = await EventQueues.open(file, { logger: collectingLogger(lines) });
    expect(q.depths().poll).to.deep.equal({});
    expect(lines.some((l) => l.includes('corrupt'))).to.equal(true);
    const names = await readdir(join(dir, 'state'));
    const aside = names.filter((n) => n.startsWith('event_queues.json.corrupt-'));
    expect(aside).to.have.length(1);
    expect(await readFile(join(dir, 'state', aside[0]!), 'utf8')).to.equal('{"webhook": {"x": [trunc');
    // A fresh, valid file is in place and usable.
    await q.pushPoll(PEER, ev(2));
    const again = await EventQueues.open(file);
    expect(rids(again.peekPoll(PEER))).to.deep.equal(items(2));
  });

  it('treats a wrong shape as corrupt too', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(file, JSON.stringify({ webhook: [1, 2] }));
    const q = await EventQueues.open(file);
    expect(q.webhookNodes()).to.deep.equal([]);
    expect((await readdir(join(dir, 'state'))).some((n) => n.includes('.corrupt-'))).to.equal(true);
  });

  it('coalesces writes: 1,000 pushes in one tick -> a few writes, all on disk after awaiting', async () => {
    const q = await EventQueues.open(file);
    const before = q.writeCount;
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) pushes.push(i % 2 ? q.pushWebhook(PEER, ev(i)) : q.pushPoll(OTHER, ev(i)));
    await Promise.all(pushes);
    expect(q.writeCount - before).to.be.at.most(2);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { webhook: Record<string, unknown[]>; poll: Record<string, unknown[]> };
    expect(onDisk.webhook[PEER]).to.have.length(500);
    expect(onDisk.poll[OTHER]).to.have.length(500);
  });

  it('coalesces writes while a write is in flight, and never loses a change', async () => {
    const q = await EventQueues.open(file);
    const before = q.writeCount;
    const pushes: Promise<void>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) pushes.push(q.pushPoll(PEER, ev(round * 50 + i)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pushes);
    expect(q.writeCount - before).to.be.lessThan(1000 / 10);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { poll: Record<string, { rid: string }[]> };
    expect(onDisk.poll[PEER]!.map((e) => e.rid)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => `orn:test.item:${i}`));
  });

  it('persist() and flushed() resolve once the state is on disk', async () => {
    const q = await EventQueues.open(file);
    void q.pushPoll(PEER, ev(1));
    await q.flushed();
    expect(JSON.parse(await readFile(file, 'utf8')).poll[PEER]).to.have.length(1);
    await q.persist();
    await q.flushed();
  });

  it('never loses an acknowledged event when the process is SIGKILLed', async function () {
    this.timeout(60_000);
    const script = fileURLToPath(new URL('./fixtures/queue-pusher.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, file, PEER, '100000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastOk = 0;
    const acked: number[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const m = /^ok (\d+)$/.exec(line);
          if (m) {
            lastOk = Number(m[1]);
            acked.push(lastOk);
            // Kill at an odd moment: mid-burst, while later pushes are being written.
            if (lastOk >= 203) {
              child.kill('SIGKILL');
              resolve();
            }
          }
        }
      });
      child.on('exit', () => (lastOk >= 203 ? resolve() : reject(new Error(`child exited early: ${stderr}`))));
    });
    expect(await exited).to.equal('SIGKILL');
    const q = await EventQueues.open(file);
    const onDisk = new Set([...rids(q.peekWebhook(PEER)), ...rids(q.peekPoll(PEER))]);
    const missing = acked.filter((i) => !onDisk.has(`orn:test.item:${i}`));
    expect(missing, `acked but lost: ${missing.join(',')}`).to.deep.equal([]);
    expect(acked).to.deep.equal(Array.from({ length: acked.length }, (_, i) => i + 1));
    // Order within each queue is preserved.
    const webhookNumbers = rids(q.peekWebhook(PEER)).map((r) => Number(r.split(':').pop()));
    expect(webhookNumbers).to.deep.equal([...webhookNumbers].sort((a, b) => a - b));
  });
});
