import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runUntilKilled } from '../../helpers/kill-mid-run.ts';
import { RecordLog, StorageError, readRecords, readSnapshotText, writeSnapshotStream } from '../../../src/storage/index.ts';

describe('storage/RecordLog: the journal engine', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-storage-'));
    path = join(dir, 'log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a torn final record is reported, cut off the file, and later appends stay readable', async () => {
    await writeFile(path, '{"a":1}\n{"a":2}\n{"a":3,"hal');
    const { log, contents } = await RecordLog.open(path);
    expect(contents.records).to.deep.equal(['{"a":1}', '{"a":2}']);
    expect(contents.tornBytes).to.equal('{"a":3,"hal'.length);
    expect((await stat(path)).size).to.equal(16);
    await log.append('{"a":4}\n');
    await log.close();
    expect((await readRecords(path)).records).to.deep.equal(['{"a":1}', '{"a":2}', '{"a":4}']);
  });

  it('a missing file is an empty log; a file without any newline is all torn', async () => {
    expect(await readRecords(join(dir, 'none'))).to.deep.equal({ records: [], bytes: 0, tornBytes: 0 });
    await writeFile(path, 'half');
    const { log, contents } = await RecordLog.open(path);
    expect(contents).to.deep.equal({ records: [], bytes: 0, tornBytes: 4 });
    await log.close();
    expect(await readFile(path, 'utf8')).to.equal('');
  });

  it('group commit: 500 appends in one tick share a few write calls, in order, each whole', async () => {
    const { log } = await RecordLog.open(path);
    const records = Array.from({ length: 500 }, (_, i) => `{"n":${i}}`);
    // Half as strings, half as pieces, which must be written back to back without a copy.
    await Promise.all(records.map((r, i) => (i % 2 ? log.append(`${r}\n`) : log.append([Buffer.from(r), Buffer.from('\n')]))));
    expect(log.writes).to.be.at.least(1).and.below(10);
    expect(log.size).to.equal(records.join('\n').length + 1);
    await log.close();
    expect((await readRecords(path)).records).to.deep.equal(records);
  });

  it('snapshot + replay: state = snapshot, then the records appended after it; a streamed snapshot over the chunk size is whole', async () => {
    // A tiny store on the engine: state is a list of numbers, the snapshot holds the list, the log
    // the numbers appended after the snapshot.
    const snapshotPath = join(dir, 'state.json');
    const big = Array.from({ length: 200_000 }, (_, i) => i); // ~1.3 MB of JSON: several chunks
    await writeSnapshotStream(snapshotPath, async (put) => {
      await put('{"items":[');
      for (let i = 0; i < big.length; i += 1000) await put(`${i > 0 ? ',' : ''}${big.slice(i, i + 1000).join(',')}`);
      await put(']}\n');
    });
    const { log } = await RecordLog.open(path);
    for (let i = 0; i < 50; i++) void log.append(`${200_000 + i}\n`);
    await log.append('200050\n');
    // Crash: no close. A new process loads the snapshot and replays the log over it.
    const loaded = JSON.parse((await readSnapshotText(snapshotPath))!) as { items: number[] };
    const replayed = [...loaded.items, ...(await readRecords(path)).records.map(Number)];
    expect(replayed).to.have.length(200_051);
    expect(replayed.every((v, i) => v === i)).to.equal(true);
    expect(await readSnapshotText(join(dir, 'missing.json'))).to.equal(undefined);
    await log.close();
  });

  it('compaction under writes: never loses or duplicates a record, and is skipped while appends wait', async () => {
    const { log } = await RecordLog.open(path);
    const live: string[] = [];
    let compactions = 0;
    const pending: Promise<unknown>[] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 25; i++) {
        const record = `{"round":${round},"i":${i}}`;
        live.push(record);
        pending.push(log.append(`${record}\n`));
      }
      // Drop the oldest records as a store would once they are folded elsewhere; what is kept
      // is decided when the compaction runs, against the records appended by then.
      if (round % 3 === 0) {
        pending.push(
          log
            .compact(() => {
              live.splice(0, Math.floor(live.length / 2));
              return `${live.join('\n')}\n`;
            })
            .then((done) => {
              if (done) compactions++;
            }),
        );
      }
      if (round % 5 === 0) await Promise.all(pending);
    }
    await Promise.all(pending);
    // One more once everything is written: this one cannot be skipped.
    expect(await log.compact(() => `${live.join('\n')}\n`)).to.equal(true);
    await log.append('{"last":true}\n');
    await log.close();
    expect(compactions).to.be.greaterThan(0);
    expect((await readRecords(path)).records).to.deep.equal([...live, '{"last":true}']);
  });

  it('a failed file operation is a StorageError naming the operation and the file, with the system code', async () => {
    await mkdir(join(dir, 'a-directory'));
    const err = await readRecords(join(dir, 'a-directory')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StorageError);
    expect((err as StorageError).operation).to.equal('read');
    expect((err as StorageError).code).to.equal('EISDIR');
    expect((err as StorageError).message).to.contain(join(dir, 'a-directory'));
    // A closed log refuses appends and changes nothing.
    const { log } = await RecordLog.open(path);
    await log.append('{"x":1}\n');
    await log.close();
    const refused = await log.append('{"x":2}\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(StorageError);
    expect(await readFile(path, 'utf8')).to.equal('{"x":1}\n');
  });

  it('keepOpen: false still appends in order and truncates nothing (the file is reopened per write group)', async () => {
    const log = RecordLog.lazy(path, { keepOpen: false });
    await appendFile(path, '{"pre":1}\n');
    await Promise.all([log.append('{"a":1}\n'), log.append('{"a":2}\n')]);
    await log.append('{"a":3}\n');
    expect(log.size).to.equal((await stat(path)).size);
    expect((await readRecords(path)).records).to.deep.equal(['{"pre":1}', '{"a":1}', '{"a":2}', '{"a":3}']);
  });

  for (const [label, compactEvery, killAt] of [
    ['', undefined, 2003],
    [' while compacting often', 50, 1503],
  ] as const) {
    it(`a SIGKILLed writer keeps every acknowledged record, in order, with no torn record left${label}`, async function () {
      this.timeout(60_000);
      const script = fileURLToPath(new URL('./fixtures/log-appender.ts', import.meta.url));
      const args = [path, '1000000', ...(compactEvery === undefined ? [] : [String(compactEvery)])];
      // Mid-burst: later appends of the burst are being written when the kill lands.
      const { acked, signal } = await runUntilKilled(script, args, (a) => a.length >= killAt);
      expect(signal).to.equal('SIGKILL');
      const { log, contents } = await RecordLog.open(path);
      await log.close();
      const numbers = contents.records.map((r) => (JSON.parse(r) as { r: number }).r);
      const onDisk = new Set(numbers);
      const missing = acked.filter((n) => !onDisk.has(n));
      expect(missing, `acknowledged but lost: ${missing.slice(0, 20).join(',')}`).to.deep.equal([]);
      // Nothing out of order or twice (compaction rewrote the whole file under the appends).
      expect(numbers).to.deep.equal(Array.from({ length: numbers.length }, (_, i) => i + 1));
      expect(numbers.length).to.be.at.least(acked.length);
    });
  }
});
