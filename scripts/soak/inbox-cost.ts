/**
 * The inbox's own cost per event: `npx tsx scripts/soak/inbox-cost.ts [--events 50000]
 * [--batch 100] [--bytes 1000] [--concurrency 8] [--fsync]`. Appends batches of wire events
 * (as a broadcast delivers them, already parsed by the HTTP layer) and waits for each write, as
 * broadcastEvents does before answering 200; then times marking them processed (checkpoint and
 * compaction included).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { Inbox } from '../../src/inbox/index.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '100' },
    bytes: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    fsync: { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const batchSize = Number(values.batch);
const concurrency = Number(values.concurrency);
const pad = 'x'.repeat(Math.max(0, Number(values.bytes) - 20));
const batches = Math.ceil(total / batchSize);
const wires: unknown[][] = [];
for (let b = 0; b < Math.min(batches, 20); b++) {
  wires.push(Array.from({ length: batchSize }, (_, i) => JSON.parse(JSON.stringify(Event.fromBundle(Bundle.generate(`orn:bench.thing:${b}-${i}`, { pad }), EventType.NEW).toJSON())) as unknown));
}

const dir = await mkdtemp(join(tmpdir(), 'koi-inbox-cost-'));
const inbox = await Inbox.open(join(dir, 'inbox.log'), { fsync: values.fsync });
let next = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < batches) {
      const b = next++;
      await inbox.append(wires[b % wires.length]!).done;
    }
  }),
);
const appendNs = Number(process.hrtime.bigint() - started);
const markStart = process.hrtime.bigint();
for (let seq = 1; seq <= batches; seq++) inbox.markProcessed(seq);
await inbox.flushCheckpoint();
const markNs = Number(process.hrtime.bigint() - markStart);
const stats = inbox.stats();
await inbox.close();
await rm(dir, { recursive: true, force: true });
const events = batches * batchSize;
console.log(
  JSON.stringify({
    events,
    batchSize,
    bytesPerEvent: Number(values.bytes),
    concurrency,
    fsync: values.fsync,
    appendUsPerEvent: +(appendNs / 1000 / events).toFixed(2),
    appendEventsPerSecond: Math.round(events / (appendNs / 1e9)),
    markAndCheckpointUsPerEvent: +(markNs / 1000 / events).toFixed(3),
    writeCalls: stats.writes,
    compactions: stats.compactions,
    mbWritten: +(stats.bytesAppended / 1e6).toFixed(1),
  }),
);
