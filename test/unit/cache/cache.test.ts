import { mkdtemp, mkdir, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { RID } from '../../../src/rid/index.ts';
import { Bundle, Manifest, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache, cacheFileName, type CacheLogger } from '../../../src/cache/index.ts';
import { snapshotPathFor } from '../../../src/cache/cache.ts';
import { CacheError } from '../../../src/errors.ts';

interface ManifestVector {
  name: string;
  contents: JsonObject | null;
  sha256_hash?: string;
  error_type?: string;
}
interface FileNameDetail {
  input: string;
  rid_str: string;
  filename: string;
  exceeds_NAME_MAX_255: boolean;
}

const fixtures = new URL('../../fixtures/', import.meta.url);
const vectors = (
  JSON.parse(readFileSync(new URL('manifests.json', fixtures), 'utf8')) as { vectors: ManifestVector[] }
).vectors.filter((v) => v.error_type === undefined);
const fileNames = (
  JSON.parse(readFileSync(new URL('cache_filenames.json', fixtures), 'utf8')) as { details: FileNameDetail[] }
).details;

const NODE = 'orn:koi-net.node:coordinator+0edc41e9-ca87-4ed7-a386-205e9281472d';
const EDGE = 'orn:koi-net.edge:fe40e760b8a6318f130082c3718bbe2f71ed0b41d052d78330a2226a7a9a708f';
const SLACK = 'orn:slack.message:TA2E6KPK3/C07BKQX0EVC/1721669683.087619';

class RecordingLogger implements CacheLogger {
  readonly warnings: { obj: object; msg: string | undefined }[] = [];
  warn(obj: object, msg?: string): void {
    this.warnings.push({ obj, msg });
  }
}

/** As rid-lib's Bundle.model_dump_json(indent=2) lays it out. */
function pythonFileText(rid: string, timestamp: string, sha256: string, contents: JsonObject): string {
  return JSON.stringify({ manifest: { rid, timestamp, sha256_hash: sha256 }, contents }, null, 2);
}

describe('cache/Cache', () => {
  let root: string;
  let dir: string;
  let logger: RecordingLogger;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'koi-cache-test-'));
    dir = join(root, 'cache');
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('open creates the directory; an empty cache lists nothing', async () => {
    const cache = await Cache.open(join(dir, 'nested', 'deeper'), { logger });
    expect(cache.size).to.equal(0);
    expect(cache.listRids()).to.deep.equal([]);
    expect(cache.exists(NODE)).to.equal(false);
    expect(cache.readManifest(NODE)).to.equal(undefined);
    expect(await cache.read(NODE)).to.equal(undefined);
    expect(await cache.delete(NODE)).to.equal(false);
    expect(await readdir(join(dir, 'nested', 'deeper'))).to.deep.equal([]);
  });

  it('write stores the rid-lib file layout under the rid-lib name, and read gives it back', async () => {
    const cache = await Cache.open(dir, { logger });
    const bundle = Bundle.generate(NODE, { node_type: 'FULL', provides: { event: [], state: [] } });
    expect(await cache.write(bundle)).to.equal(bundle);
    const name = fileNames.find((d) => d.rid_str === NODE)!.filename;
    expect(await readdir(dir)).to.deep.equal([name]);
    const text = await readFile(join(dir, name), 'utf8');
    expect(text).to.equal(JSON.stringify({ manifest: bundle.manifest.toJSON(), contents: bundle.contents }, null, 2));
    expect(text.startsWith('{\n  "manifest": {\n    "rid": ')).to.equal(true);
    const back = await cache.read(RID.fromString(NODE));
    expect(back?.toJSON()).to.deep.equal(bundle.toJSON());
    expect(cache.readManifest(NODE)?.equals(bundle.manifest)).to.equal(true);
    expect(logger.warnings).to.deep.equal([]);
  });

  it('both writers lay the file out exactly as JSON.stringify(bundle, null, 2), whatever the contents', async () => {
    // The writers get compact JSON and indent it themselves; the round trip must change nothing.
    const contents = JSON.parse(
      '{"__proto__":{"x":1},"text":"caf\u00e9 \\u2028 \\"q\\" \\\\ \\ud83d\\ude00","n":[1.5,-0,1e21,123456789012345680000,0.1],"deep":{"a":[{"b":null},[],{}]},"":true}',
    ) as JsonObject;
    for (const writer of ['worker', 'threadpool'] as const) {
      const sub = join(dir, writer);
      const cache = await Cache.open(sub, { logger, writer });
      const bundle = Bundle.generate(`orn:test.thing:${writer}`, contents);
      await cache.write(bundle);
      const text = await readFile(join(sub, cacheFileName(bundle.rid)), 'utf8');
      expect(text, writer).to.equal(JSON.stringify(bundle.toJSON(), null, 2));
      await cache.close();
    }
  });

  for (const scanConcurrency of [0, 4]) {
  it(`reads a directory written as the Python reference writes it (scanConcurrency ${scanConcurrency})`, async () => {
    await mkdir(dir, { recursive: true });
    const usable = fileNames.filter((d) => !d.exceeds_NAME_MAX_255);
    const expected = new Map<string, { hash: string; contents: JsonObject; timestamp: string }>();
    for (const [i, d] of usable.entries()) {
      if (expected.has(d.rid_str)) continue; // several inputs normalize to one RID
      const v = vectors[i % vectors.length]!;
      const timestamp = `2025-04-08T14:10:${String(i % 60).padStart(2, '0')}.123456Z`;
      await writeFile(join(dir, d.filename), pythonFileText(d.rid_str, timestamp, v.sha256_hash!, v.contents!), 'utf8');
      expected.set(d.rid_str, { hash: v.sha256_hash!, contents: v.contents!, timestamp });
    }
    const cache = await Cache.open(dir, { logger, scanConcurrency });
    expect(logger.warnings).to.deep.equal([]);
    expect(cache.size).to.equal(expected.size);
    expect(cache.listRids().map(String).sort()).to.deep.equal([...expected.keys()].sort());
    for (const [rid, e] of expected) {
      expect(cache.exists(rid), rid).to.equal(true);
      const m = cache.readManifest(rid)!;
      expect([m.sha256Hash, m.timestamp]).to.deep.equal([e.hash, e.timestamp]);
      const bundle = await cache.read(rid);
      expect(bundle?.rid.toString()).to.equal(rid);
      expect(JSON.stringify(bundle?.contents)).to.equal(JSON.stringify(e.contents));
    }
    expect(cache.listRids(['orn:koi-net.node']).map(String).sort()).to.deep.equal(
      [...expected.keys()].filter((r) => r.startsWith('orn:koi-net.node:')).sort(),
    );
    expect(cache.listRids(['https', 'urn:isbn']).length).to.equal(
      [...expected.keys()].filter((r) => r.startsWith('https:') || r.startsWith('urn:isbn:')).length,
    );
  });

  it(`skips corrupt and foreign files with a warning, never crashing (scanConcurrency ${scanConcurrency})`, async () => {
    await mkdir(dir, { recursive: true });
    const good = Bundle.generate(NODE, { ok: true });
    await writeFile(join(dir, cacheFileName(NODE)), JSON.stringify(good), 'utf8');
    const bad: Record<string, string> = {
      [cacheFileName(EDGE)]: '{"manifest": {"rid": "orn:koi-net.edge:x", ', // truncated
      'e30.json': '{}',
      [cacheFileName(SLACK)]: JSON.stringify({ manifest: { rid: SLACK, timestamp: 'now', sha256_hash: 'x' }, contents: {} }),
      'bm90LWEtcmlk.json': JSON.stringify({ manifest: { ...good.manifest.toJSON(), rid: 'not-a-rid' }, contents: {} }),
      'YXJyYXk.json': JSON.stringify({ manifest: good.manifest.toJSON(), contents: [1, 2] }),
      'bnVsbA.json': 'null',
      'binary.json': '\u0000\u0001\u0002',
      'notes.txt': 'hello',
    };
    for (const [name, text] of Object.entries(bad)) await writeFile(join(dir, name), text, 'utf8');
    await mkdir(join(dir, 'subdir.json'));
    const cache = await Cache.open(dir, { logger, scanConcurrency });
    expect(cache.size).to.equal(1);
    expect(cache.listRids().map(String)).to.deep.equal([NODE]);
    expect(logger.warnings.length).to.equal(Object.keys(bad).length);
    expect((await cache.read(NODE))?.toJSON()).to.deep.equal(good.toJSON());
  });
  }

  it('removes leftover temp files at open', async () => {
    await mkdir(dir, { recursive: true });
    const name = cacheFileName(NODE);
    await writeFile(join(dir, `${name}.tmp-12345-7`), '{"manifest": {', 'utf8');
    await writeFile(join(dir, name), JSON.stringify(Bundle.generate(NODE, {})), 'utf8');
    const cache = await Cache.open(dir, { logger });
    expect(await readdir(dir)).to.deep.equal([name]);
    expect(cache.size).to.equal(1);
    expect(logger.warnings).to.deep.equal([]);
  });

  it('writes atomically: concurrent writes leave no temp files and the index matches the disk', async () => {
    const cache = await Cache.open(dir, { logger });
    const rids = Array.from({ length: 20 }, (_, i) => `orn:test.thing:${i}`);
    const bundles = rids.flatMap((rid) => Array.from({ length: 5 }, (_, n) => Bundle.generate(rid, { n })));
    await Promise.all(bundles.map((b) => cache.write(b)));
    const names = await readdir(dir);
    expect(names.length).to.equal(rids.length);
    expect(names.every((n) => /^[A-Za-z0-9_-]+\.json$/.test(n))).to.equal(true);
    for (const rid of rids) {
      const onDisk = Bundle.fromJSON(JSON.parse(await readFile(join(dir, cacheFileName(rid)), 'utf8')));
      expect(onDisk.manifest.equals(cache.readManifest(rid)!), rid).to.equal(true);
      // Writes of one RID are applied in call order: the last one wins.
      expect(onDisk.contents).to.deep.equal({ n: 4 });
    }
  });

  it('keeps the index consistent across write, overwrite, delete and reopen', async () => {
    const cache = await Cache.open(dir, { logger });
    const node = Bundle.generate(NODE, { v: 1 });
    const edge = Bundle.generate(EDGE, { v: 1 });
    const msg = Bundle.generate(SLACK, { v: 1 });
    await cache.write(node);
    await cache.write(edge);
    await cache.write(msg);
    expect(cache.size).to.equal(3);
    expect(cache.listRids(['orn:koi-net.node', 'orn:koi-net.edge']).map(String).sort()).to.deep.equal([EDGE, NODE].sort());
    expect(cache.listRids([RID.fromString(SLACK).type]).map(String)).to.deep.equal([SLACK]);
    expect(cache.listRids([]).length).to.equal(3);
    expect(cache.listRids(['orn:nothing.here'])).to.deep.equal([]);

    const node2 = Bundle.generate(NODE, { v: 2 });
    await cache.write(node2);
    expect(cache.size).to.equal(3);
    expect(cache.readManifest(NODE)?.equals(node2.manifest)).to.equal(true);

    expect(await cache.delete(EDGE)).to.equal(true);
    expect(await cache.delete(EDGE)).to.equal(false);
    expect(cache.exists(EDGE)).to.equal(false);
    expect(cache.listRids(['orn:koi-net.edge'])).to.deep.equal([]);
    expect(await cache.read(EDGE)).to.equal(undefined);
    expect((await readdir(dir)).sort()).to.deep.equal([cacheFileName(NODE), cacheFileName(SLACK)].sort());

    const reopened = await Cache.open(dir, { logger });
    expect(reopened.listRids().map(String).sort()).to.deep.equal([NODE, SLACK].sort());
    expect(reopened.readManifest(NODE)?.equals(node2.manifest)).to.equal(true);
    expect((await reopened.read(NODE))?.contents).to.deep.equal({ v: 2 });
    expect(logger.warnings).to.deep.equal([]);
  });

  it('a file that vanished or went corrupt reads as undefined with a warning', async () => {
    const cache = await Cache.open(dir, { logger });
    await cache.write(Bundle.generate(NODE, {}));
    await cache.write(Bundle.generate(EDGE, {}));
    await unlink(join(dir, cacheFileName(NODE)));
    await writeFile(join(dir, cacheFileName(EDGE)), '{"manifest":', 'utf8');
    expect(await cache.read(NODE)).to.equal(undefined);
    expect(await cache.read(EDGE)).to.equal(undefined);
    expect(logger.warnings.length).to.equal(2);
    expect(cache.exists(NODE)).to.equal(false);
    expect(cache.exists(EDGE)).to.equal(false);
    // A later write heals it.
    await cache.write(Bundle.generate(EDGE, { healed: true }));
    expect((await cache.read(EDGE))?.contents).to.deep.equal({ healed: true });
  });

  it('stores RIDs too long for a file name under ~sha256 and recovers them at open', async () => {
    const long = fileNames.find((d) => d.exceeds_NAME_MAX_255)!.rid_str;
    const longer = `orn:long.thing:${'é'.repeat(400)}`;
    const cache = await Cache.open(dir, { logger });
    await cache.write(Bundle.generate(long, { which: 'long' }));
    await cache.write(Bundle.generate(longer, { which: 'longer' }));
    const names = await readdir(dir);
    expect(names.length).to.equal(2);
    expect(names.every((n) => /^~[0-9a-f]{64}\.json$/.test(n))).to.equal(true);
    const reopened = await Cache.open(dir, { logger });
    expect(reopened.listRids().map(String).sort()).to.deep.equal([long, longer].sort());
    expect((await reopened.read(longer))?.contents).to.deep.equal({ which: 'longer' });
    expect(reopened.listRids(['orn:long.thing']).map(String)).to.deep.equal([longer]);
    expect(await reopened.delete(long)).to.equal(true);
    expect((await readdir(dir)).length).to.equal(1);
    expect(logger.warnings).to.deep.equal([]);
  });

  it('never touches a path outside its directory, whatever the RID', async () => {
    const cache = await Cache.open(dir, { logger });
    const nasty = [
      'orn:x.y:../../../../etc/passwd',
      'orn:x.y:..',
      'urn:a:../b',
      'foo:/../../outside',
      'orn:x.y:..\\..\\windows',
      `orn:x.y:${'../'.repeat(100)}`,
    ];
    for (const rid of nasty) await cache.write(Bundle.generate(rid, { rid }));
    expect((await readdir(root)).sort()).to.deep.equal(['cache']);
    expect((await readdir(dir)).length).to.equal(nasty.length);
    expect((await readdir(dirname(root))).filter((n) => n === 'etc' || n === 'outside' || n === 'b')).to.deep.equal([]);
    for (const rid of nasty) {
      expect((await cache.read(rid))?.contents).to.deep.equal({ rid });
      expect(await cache.delete(rid)).to.equal(true);
    }
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('contents with __proto__ / constructor keys round-trip through the disk', async () => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"toString":"s"}';
    const contents = JSON.parse(text) as JsonObject;
    const cache = await Cache.open(dir, { logger });
    const bundle = Bundle.generate(NODE, contents);
    await cache.write(bundle);
    const reopened = await Cache.open(dir, { logger });
    const back = (await reopened.read(NODE))!;
    expect(JSON.stringify(back.contents)).to.equal(text);
    expect(Object.prototype.hasOwnProperty.call(back.contents, '__proto__')).to.equal(true);
    expect(Object.getPrototypeOf(back.contents)).to.equal(Object.prototype);
    expect(reopened.readManifest(NODE)?.sha256Hash).to.equal(bundle.manifest.sha256Hash);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('drop removes everything; the next write recreates the directory', async () => {
    const cache = await Cache.open(dir, { logger });
    await cache.write(Bundle.generate(NODE, {}));
    await cache.drop();
    expect(cache.size).to.equal(0);
    expect(cache.listRids()).to.deep.equal([]);
    expect(await readdir(root)).to.deep.equal([]);
    await cache.write(Bundle.generate(EDGE, {}));
    expect(await readdir(dir)).to.deep.equal([cacheFileName(EDGE)]);
    expect(cache.listRids().map(String)).to.deep.equal([EDGE]);
  });

  it('prefers the canonically named file when two files claim one RID', async () => {
    await mkdir(dir, { recursive: true });
    const canonical = Bundle.generate(NODE, { which: 'canonical' }, new Date('2025-01-01T00:00:00Z'));
    const stray = Bundle.generate(NODE, { which: 'stray' }, new Date('2025-06-01T00:00:00Z'));
    await writeFile(join(dir, 'AAAA.json'), JSON.stringify(stray), 'utf8');
    await writeFile(join(dir, cacheFileName(NODE)), JSON.stringify(canonical), 'utf8');
    const cache = await Cache.open(dir, { logger });
    expect(cache.size).to.equal(1);
    expect((await cache.read(NODE))?.contents).to.deep.equal({ which: 'canonical' });
    expect(logger.warnings.length).to.be.greaterThan(0);
  });

  it('a bundle indexed under a non-canonical name moves to the canonical one on write', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'AAAA.json'), JSON.stringify(Bundle.generate(NODE, { v: 1 })), 'utf8');
    const cache = await Cache.open(dir, { logger });
    expect((await cache.read(NODE))?.contents).to.deep.equal({ v: 1 });
    await cache.write(Bundle.generate(NODE, { v: 2 }));
    expect(await readdir(dir)).to.deep.equal([cacheFileName(NODE)]);
  });

  it('a failed write rejects with CacheError, stays readable from memory and is retried until it lands', async () => {
    const cache = await Cache.open(dir, { logger, retryInitialDelayMs: 20, retryMaxDelayMs: 50 });
    // A directory where the file should go makes the rename fail.
    await mkdir(join(dir, cacheFileName(NODE)));
    await writeFile(join(dir, cacheFileName(NODE), 'x'), 'x');
    let thrown: unknown;
    try {
      await cache.write(Bundle.generate(NODE, { v: 7 }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(CacheError);
    expect(cache.exists(NODE)).to.equal(true);
    expect((await cache.read(NODE))?.contents).to.deep.equal({ v: 7 });
    const degraded = cache.health();
    expect(degraded.status).to.equal('degraded');
    expect(degraded.pendingWrites).to.equal(1);
    expect(degraded.lastError).to.be.a('string').and.include('cannot write cache file');
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).to.deep.equal([]);
    await cache.sync().then(
      () => expect.fail('sync() must reject while the write is not on disk'),
      (err: unknown) => expect(err).to.be.instanceOf(CacheError),
    );

    // The obstacle goes: the next retry writes the file, without a new write() call.
    await rm(join(dir, cacheFileName(NODE)), { recursive: true, force: true });
    // Retries come every 20-50 ms; the wait is long only so a loaded machine cannot fail it.
      for (let i = 0; i < 1000 && cache.health().status !== 'ok'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cache.health()).to.deep.equal({ status: 'ok', pendingWrites: 0 });
    await cache.sync();
    expect(JSON.parse(await readFile(join(dir, cacheFileName(NODE)), 'utf8')).contents).to.deep.equal({ v: 7 });
    await cache.close();
  });

  it('uses Manifest instances from the index (no disk) for readManifest', async () => {
    const cache = await Cache.open(dir, { logger });
    const b = Bundle.generate(NODE, {});
    await cache.write(b);
    await rm(dir, { recursive: true, force: true });
    expect(cache.readManifest(NODE)).to.be.instanceOf(Manifest);
    expect(cache.exists(NODE)).to.equal(true);
  });
  it('write-behind: the index and read() see a write at once; sync() resolves once it is on disk', async () => {
    const cache = await Cache.open(dir, { logger });
    const b = Bundle.generate(NODE, { v: 1 });
    const written = cache.write(b);
    expect(cache.exists(NODE)).to.equal(true);
    expect((await cache.read(NODE))?.contents).to.deep.equal({ v: 1 });
    await cache.sync();
    expect(cache.pendingWrites).to.equal(0);
    expect(JSON.parse(await readFile(join(dir, cacheFileName(NODE)), 'utf8')).contents).to.deep.equal({ v: 1 });
    await written;
    // Write then delete of one RID reaches the disk in call order.
    void cache.write(Bundle.generate(EDGE, { v: 1 }));
    void cache.delete(EDGE);
    void cache.write(Bundle.generate(EDGE, { v: 2 }));
    await cache.sync();
    expect(JSON.parse(await readFile(join(dir, cacheFileName(EDGE)), 'utf8')).contents).to.deep.equal({ v: 2 });
    await cache.close();
  });

  it('close() writes an index snapshot beside the directory that the next open trusts; a write invalidates it', async () => {
    const cache = await Cache.open(dir, { logger });
    await cache.write(Bundle.generate(NODE, { v: 1 }));
    await cache.write(Bundle.generate(EDGE, { v: 1 }));
    await cache.close();
    const snap = snapshotPathFor(dir);
    expect(dirname(snap)).to.equal(root);
    expect((await readdir(dir)).every((n) => n !== basenameOf(snap))).to.equal(true);
    // A file rewritten in place while closed is not noticed (the documented limitation): proof
    // that the snapshot, not the file, answered.
    await writeFile(join(dir, cacheFileName(NODE)), JSON.stringify(Bundle.generate(NODE, { v: 9 })), 'utf8');
    const reopened = await Cache.open(dir, { logger });
    expect(reopened.size).to.equal(2);
    expect(reopened.readManifest(NODE)?.sha256Hash).to.equal(Bundle.generate(NODE, { v: 1 }).manifest.sha256Hash);
    await reopened.write(Bundle.generate(SLACK, {}));
    expect(await readdir(root)).to.not.include(basenameOf(snap));
    await reopened.sync();
    // No snapshot (as after a crash): a full scan sees the rewritten file.
    const scanned = await Cache.open(dir, { logger });
    expect(scanned.size).to.equal(3);
    expect((await scanned.read(NODE))?.contents).to.deep.equal({ v: 9 });
  });

  it('a snapshot whose file names differ from the directory is not trusted', async () => {
    const cache = await Cache.open(dir, { logger });
    await cache.write(Bundle.generate(NODE, { v: 1 }));
    await cache.close();
    await writeFile(join(dir, cacheFileName(EDGE)), JSON.stringify(Bundle.generate(EDGE, { v: 1 })), 'utf8');
    const reopened = await Cache.open(dir, { logger });
    expect(reopened.listRids().map(String).sort()).to.deep.equal([EDGE, NODE].sort());
  });

  it('the snapshot is columnar with each timestamp in microseconds; version 1 and 2 snapshots are still trusted, a broken one never', async () => {
    const at = new Date('2024-05-06T07:08:09.123Z');
    const node = Bundle.generate(NODE, { v: 1 }, at);
    const cache = await Cache.open(dir, { logger });
    await cache.write(node);
    await cache.write(Bundle.generate(EDGE, { v: 1 }));
    await cache.close();
    const snap = snapshotPathFor(dir);
    const v3 = JSON.parse(await readFile(snap, 'utf8')) as Record<string, unknown[]> & { version: number; directory: string; listingCount: number; listingDigest: string };
    expect(v3.version).to.equal(3);
    expect(v3.micros).to.have.length(2);
    expect(v3.micros![v3.rids!.indexOf(NODE)]).to.equal(node.manifest.timeMicros);
    // Both files have their canonical names: none is listed by name.
    expect(v3).to.include({ listingCount: 2 });
    expect(v3.renamedRows).to.deep.equal([]);
    expect(v3).to.not.have.property('files');
    const fromSnapshot = await Cache.open(dir, { logger });
    expect(fromSnapshot.readManifest(NODE)?.timeMicros).to.equal(at.getTime() * 1000);
    expect(fromSnapshot.readManifest(NODE)?.timestamp).to.equal(node.manifest.timestamp);

    // Written by earlier releases. Proof each is trusted: a file rewritten while closed is not
    // seen (see the test above).
    await writeFile(join(dir, cacheFileName(NODE)), JSON.stringify(Bundle.generate(NODE, { v: 9 })), 'utf8');
    const files = v3.rids!.map((r) => cacheFileName(r as string));
    const v2 = { version: 2, directory: v3.directory, files, rids: v3.rids, timestamps: v3.timestamps, hashes: v3.hashes, micros: v3.micros, ignored: [] };
    const v1 = { version: 1, directory: v3.directory, entries: files.map((f, i) => [f, v3.rids![i], v3.timestamps![i], v3.hashes![i]]), ignored: [] };
    for (const old of [v2, v1]) {
      await writeFile(snap, JSON.stringify(old), 'utf8');
      const fromOld = await Cache.open(dir, { logger });
      expect(fromOld.readManifest(NODE)?.sha256Hash, `version ${old.version}`).to.equal(node.manifest.sha256Hash);
      expect(fromOld.readManifest(NODE)?.timeMicros, `version ${old.version}`).to.equal(node.manifest.timeMicros);
    }

    // A column of the wrong length or type, another listing, a bad RID, a row out of range, not
    // JSON at all: not trusted, so the scan reads the rewritten file.
    const broken: unknown[] = [
      { ...v3, micros: [1] },
      { ...v3, micros: v3.micros!.map(String) },
      { ...v3, hashes: [1, 2] },
      // (Without the directory stamp, which would vouch for the unchanged directory instead: snapshot-stamp.test.ts.)
      { ...v3, directoryStamp: undefined, listingDigest: '0'.repeat(64) },
      { ...v3, directoryStamp: undefined, listingCount: 3 },
      { ...v3, rids: v3.rids!.map(() => 'not a rid') },
      { ...v3, renamedRows: [2], renamedFiles: ['x.json'] },
      { ...v3, renamedRows: [0], renamedFiles: [] },
      { ...v2, micros: [1] },
    ];
    for (const b of broken) {
      await writeFile(snap, JSON.stringify(b), 'utf8');
      const scanned = await Cache.open(dir, { logger });
      expect((await scanned.read(NODE))?.contents, JSON.stringify(b).slice(0, 120)).to.deep.equal({ v: 9 });
    }
    await writeFile(snap, JSON.stringify(v3).slice(0, 100), 'utf8');
    expect((await (await Cache.open(dir, { logger })).read(NODE))?.contents).to.deep.equal({ v: 9 });
  });

  it('a file under a name that is not its RID\'s canonical one keeps that name through a snapshot', async () => {
    const bundle = Bundle.generate(NODE, { v: 1 });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'other-name.json'), JSON.stringify(bundle.toJSON()), 'utf8');
    const cache = await Cache.open(dir, { logger });
    await cache.close();
    const v3 = JSON.parse(await readFile(snapshotPathFor(dir), 'utf8')) as { renamedRows: number[]; renamedFiles: string[] };
    expect(v3.renamedFiles).to.deep.equal(['other-name.json']);
    const reopened = await Cache.open(dir, { logger });
    expect((await reopened.read(NODE))?.contents).to.deep.equal({ v: 1 });
    // Deleting it removes that file, which only a kept name can find.
    await reopened.delete(NODE);
    await reopened.sync();
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('a failed background write rejects sync(), keeps the index, and lands on a retry (threadpool and worker writers)', async () => {
    for (const writer of ['worker', 'threadpool'] as const) {
      const sub = join(root, writer);
      const cache = await Cache.open(sub, { logger, writer, retryInitialDelayMs: 20, retryMaxDelayMs: 50 });
      await mkdir(join(sub, cacheFileName(NODE)));
      await writeFile(join(sub, cacheFileName(NODE), 'x'), 'x');
      const written = cache.write(Bundle.generate(NODE, {}));
      written.catch(() => undefined);
      expect(cache.exists(NODE)).to.equal(true);
      let thrown: unknown;
      await cache.sync().catch((err: unknown) => (thrown = err));
      expect(thrown, writer).to.be.instanceOf(CacheError);
      expect(cache.exists(NODE), writer).to.equal(true);
      expect(cache.health().status, writer).to.equal('degraded');
      await rm(join(sub, cacheFileName(NODE)), { recursive: true, force: true });
      // Retries come every 20-50 ms; the wait is long only so a loaded machine cannot fail it.
      for (let i = 0; i < 1000 && cache.health().status !== 'ok'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(cache.health().status, writer).to.equal('ok');
      await cache.sync();
      await cache.close();
    }
  });
});

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
