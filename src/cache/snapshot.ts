/**
 * The index snapshot: close() writes every index entry beside the cache directory, and the first
 * mutation after open (or after close) deletes it before any file changes. open() trusts a
 * snapshot whose set of file names equals the directory's (one readdir, no file reads) and scans
 * otherwise (e.g. after a crash). Limitation: a file that another process rewrote in place while
 * no node had the cache open is not detected (same name, so the snapshot's manifest is served
 * until the next write of that RID).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RID } from '../rid/index.ts';
import { parseRidUncached } from '../rid/rid.ts';
import { Manifest, isJsonObject } from '../knowledge/index.ts';
import { CacheError } from '../errors.ts';
import { atomicWrite } from '../storage/atomic-write.ts';
import { errorCode, errorText } from '../util/error-text.ts';
import { TEMP_FILE } from './bundle-file.ts';
import { STAMP_SETTLE_MS, directoryStamp, settledAt, snapshotPathFor } from './directory-stamp.ts';
import { cacheFileName } from './file-name.ts';
import { indexEntry, type IndexEntry } from './memory-index.ts';
import type { CacheLogger } from './store.ts';

const SNAPSHOT_VERSION = 3;

/** Version 1 rows: [fileName, rid, timestamp, sha256_hash]. Still read, never written. */
type SnapshotRowV1 = [string, string, string, string];

/*
 * Version 2 (still read, never written): one array per column (`files`, `rids`, `timestamps`,
 * `hashes`, `micros`) and the bundle files the index did not use as `ignored`; the name sets
 * are compared at open.
 */

/**
 * Version 3: no file name per entry, since nearly every file has its RID's canonical name (the
 * few that do not are listed in `renamedRows` / `renamedFiles`), and instead of the directory's
 * names, their count and one SHA-256 over them (`listingDigest`): fs.readdir lists names sorted,
 * so the same set always hashes alike. A third less to parse at start, and no set of 100k names
 * to build and probe.
 */
interface SnapshotV3 {
  version: 3;
  directory: string;
  listingCount: number;
  listingDigest: string;
  rids: string[];
  timestamps: string[];
  hashes: string[];
  micros: number[];
  renamedRows: number[];
  renamedFiles: string[];
  /**
   * Optional (older version 3 files lack it): the cache directory's stamp (directoryStamp) when the
   * listing above was taken, written only if that listing held bundle files alone and the
   * directory did not change while it was read. open() trusts the snapshot without listing the
   * directory when the stamp is still the same (see directory-stamp.ts).
   */
  directoryStamp?: string;
}


/** The digest of a directory listing (bundle file names in readdir order) that version 3 compares. */
export function listingDigest(names: readonly string[]): string {
  return createHash('sha256').update(names.join('\n'), 'utf8').digest('hex');
}

interface SnapshotColumns {
  files: string[];
  rids: string[];
  timestamps: string[];
  hashes: string[];
  /** Absent in version 1 snapshots: the timestamps are parsed then. */
  micros: number[] | undefined;
  ignored: string[];
}

export { directoryStamp, snapshotPathFor } from './directory-stamp.ts';

export class IndexSnapshot {
  readonly path: string;
  /** A snapshot file may exist and describe the disk; the next mutation must delete it first. */
  private live: boolean;
  private saving = false;
  private invalidatedWhileSaving = false;

  constructor(
    private readonly directory: string,
    /** CacheOptions.snapshot. */
    readonly enabled: boolean,
    private readonly logger: CacheLogger,
  ) {
    this.path = snapshotPathFor(directory);
    // Assume one may exist until open() knows; deleting a missing file is cheap.
    this.live = enabled;
  }

  /** Before a mutation changes any file: a crash must not leave a snapshot the directory no longer matches. */
  invalidateIfLive(): void {
    if (this.live || this.saving) this.invalidate();
  }

  invalidate(): void {
    this.live = false;
    if (this.saving) this.invalidatedWhileSaving = true;
    if (!this.enabled) return;
    try {
      unlinkSync(this.path);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        // A snapshot that cannot be removed would be trusted at the next open after this
        // mutation; stop rather than risk serving a stale index.
        throw new CacheError(`cannot remove the cache index snapshot ${this.path}: ${errorText(err)}`, { cause: err });
      }
    }
  }

  /** The parsed snapshot file, or undefined when there is none or it is not JSON (then open() scans). */
  read(): unknown {
    if (!this.enabled) return undefined;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.logger.warn({ file: this.path, err: errorText(err) }, 'cannot read the cache index snapshot; scanning');
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      this.logger.warn({ file: this.path, err: errorText(err) }, 'cache index snapshot is invalid; scanning');
      return undefined;
    }
  }

  /**
   * The index entries of `json` if it is well formed, belongs to this directory and names exactly
   * the bundle files `names` lists. Anything else (a crash, files added or removed by another
   * process, a corrupt snapshot) gives undefined and the caller scans every file: a different name
   * set means someone else changed the directory, so none of it is trusted.
   */
  entries(json: unknown, names: readonly string[] | Stamped): IndexEntry[] | undefined {
    try {
      if (!isJsonObject(json) || json['directory'] !== this.directory) return undefined;
      if (json['version'] === SNAPSHOT_VERSION) return entriesV3(json, names);
      if (!Array.isArray(names)) return undefined;
      const columns = json['version'] === 2 ? columnsV2(json) : json['version'] === 1 ? columnsV1(json) : undefined;
      if (columns === undefined) return undefined;
      const { files, rids, timestamps, hashes, micros, ignored } = columns;
      if (files.length + ignored.length !== names.length) return undefined;
      const expected = new Set<string>(ignored);
      for (const f of files) expected.add(f);
      if (expected.size !== names.length) return undefined;
      for (const name of names) if (!expected.has(name)) return undefined;
      const entries: IndexEntry[] = new Array(files.length);
      for (let i = 0; i < files.length; i++) {
        const rid = RID.fromString(rids[i]!);
        const manifest = new Manifest({ rid, timestamp: timestamps[i]!, sha256Hash: hashes[i]!, ...(micros ? { timeMicros: micros[i]! } : {}) });
        entries[i] = indexEntry(rid, files[i]!, manifest);
      }
      return entries;
    } catch (err) {
      this.logger.warn({ file: this.path, err: errorText(err) }, 'cache index snapshot is invalid; scanning');
      return undefined;
    }
  }

  /**
   * Writes the snapshot of `entries` (verified ones only: it must only hold manifests read from
   * the files). The caller keeps file operations from starting until this resolves; a mutation
   * meanwhile deletes the snapshot again before its file operation can start.
   */
  async save(entries: Iterable<IndexEntry>): Promise<void> {
    if (!this.enabled) return;
    const snapshot: SnapshotV3 = {
      version: SNAPSHOT_VERSION,
      directory: this.directory,
      listingCount: 0,
      listingDigest: '',
      rids: [],
      timestamps: [],
      hashes: [],
      micros: [],
      renamedRows: [],
      renamedFiles: [],
    };
    for (const e of entries) {
      if (e.manifest === undefined) continue;
      const row = snapshot.rids.push(e.rid.toString()) - 1;
      snapshot.timestamps.push(e.manifest.timestamp);
      snapshot.hashes.push(e.manifest.sha256Hash);
      snapshot.micros.push(e.manifest.timeMicros);
      if (e.fileName !== cacheFileName(e.rid)) {
        snapshot.renamedRows.push(row);
        snapshot.renamedFiles.push(e.fileName);
      }
    }
    this.saving = true;
    this.invalidatedWhileSaving = false;
    try {
      // The directory's stamp only if it was settled and did not change while it was listed.
      let before = directoryStamp(this.directory);
      const settled = before === undefined ? 0 : settledAt(before);
      // (A clock set back meanwhile would make the wait long: no stamp then, the listing path.)
      if (before !== undefined && Date.now() < settled && settled - Date.now() <= STAMP_SETTLE_MS) {
        await new Promise((done) => setTimeout(done, settled - Date.now()));
        before = directoryStamp(this.directory);
      }
      const dirents = readdirSync(this.directory, { withFileTypes: true });
      const after = directoryStamp(this.directory);
      // Every bundle file, also those the index does not use (invalid, or the losing copy of a
      // duplicated RID): next time the listings match, and the scan would skip them anyway.
      const names = bundleFileNames(dirents);
      snapshot.listingCount = names.length;
      snapshot.listingDigest = listingDigest(names);
      // Anything else in the directory (a temp file, a foreign file) is for the listing path.
      if (before !== undefined && before === after && names.length === dirents.length && Date.now() >= settledAt(after)) {
        snapshot.directoryStamp = after;
      }
      await atomicWrite(this.path, JSON.stringify(snapshot));
      this.live = true;
    } catch (err) {
      this.removeTemps();
      // Only a slower next start: it scans.
      this.logger.warn({ file: this.path, err: errorText(err) }, 'cannot write the cache index snapshot');
    } finally {
      this.saving = false;
    }
    if (this.invalidatedWhileSaving) this.invalidate();
  }

  /** atomicWrite's temp files of this process (a write that failed half-way, e.g. a full disk). */
  private removeTemps(): void {
    const prefix = `${basename(this.path)}.tmp-${process.pid}-`;
    try {
      for (const name of readdirSync(dirname(this.path))) {
        if (name.startsWith(prefix)) unlinkSync(join(dirname(this.path), name));
      }
    } catch {
      // The next start ignores them; they are not in the cache directory.
    }
  }
}

/** open() found the directory's stamp equal to the snapshot's: its listing is the saved one. */
export const STAMPED = Symbol('directory stamp matched');
export type Stamped = typeof STAMPED;

/** Whether the snapshot `json` recorded `stamp` as its directory's (open() may then skip the listing). */
export function stampMatches(json: unknown, stamp: string | undefined): boolean {
  return stamp !== undefined && isJsonObject(json) && json['version'] === SNAPSHOT_VERSION && json['directoryStamp'] === stamp;
}

/** The names open() compares: regular `*.json` files that are not temp files, in listing order. */
export function bundleFileNames(dirents: readonly { name: string; isFile(): boolean }[]): string[] {
  const names: string[] = [];
  for (const d of dirents) if (d.isFile() && d.name.endsWith('.json') && !TEMP_FILE.test(d.name)) names.push(d.name);
  return names;
}

/**
 * The entries of a version 3 snapshot, or undefined when the directory's listing is not the one
 * it was saved beside or any column is malformed. The RIDs are parsed (their types' rules apply,
 * so a damaged snapshot cannot put an invalid RID in the index), without the parse cache, which
 * 100k distinct strings would only churn.
 */
function entriesV3(json: Record<string, unknown>, names: readonly string[] | Stamped): IndexEntry[] | undefined {
  const { listingCount, rids, timestamps, hashes, micros, renamedRows, renamedFiles } = json;
  if (names === STAMPED) {
    // The caller compared the stamp (stampMatches): the directory holds exactly the saved listing.
    if (typeof json['directoryStamp'] !== 'string') return undefined;
  } else if (listingCount !== names.length || json['listingDigest'] !== listingDigest(names)) {
    return undefined;
  }
  if (!isStringArray(rids)) return undefined;
  const n = rids.length;
  if (!isStringArray(timestamps, n) || !isStringArray(hashes, n) || !isStringArray(renamedFiles)) return undefined;
  if (!Array.isArray(micros) || micros.length !== n || !micros.every((x) => Number.isSafeInteger(x))) return undefined;
  if (!Array.isArray(renamedRows) || renamedRows.length !== renamedFiles.length) return undefined;
  if (!renamedRows.every((r) => Number.isSafeInteger(r) && (r as number) >= 0 && (r as number) < n)) return undefined;
  const renamed = new Map<number, string>();
  renamedRows.forEach((row, i) => renamed.set(row as number, renamedFiles[i]!));
  const entries: IndexEntry[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const rid = parseRidUncached(rids[i]!);
    const manifest = new Manifest({ rid, timestamp: timestamps[i]!, sha256Hash: hashes[i]!, timeMicros: micros[i] as number });
    entries[i] = indexEntry(rid, renamed.get(i), manifest);
  }
  return entries;
}

function isStringArray(v: unknown, length?: number): v is string[] {
  return Array.isArray(v) && (length === undefined || v.length === length) && v.every((x) => typeof x === 'string');
}

/** The columns of a version 2 snapshot, or undefined when any is missing, mistyped or of another length. */
function columnsV2(json: Record<string, unknown>): SnapshotColumns | undefined {
  const { files, rids, timestamps, hashes, micros, ignored } = json;
  if (!isStringArray(files) || !isStringArray(ignored)) return undefined;
  const n = files.length;
  if (!isStringArray(rids, n) || !isStringArray(timestamps, n) || !isStringArray(hashes, n)) return undefined;
  if (!Array.isArray(micros) || micros.length !== n || !micros.every((x) => Number.isSafeInteger(x))) return undefined;
  return { files, rids, timestamps, hashes, micros: micros as number[], ignored };
}

function columnsV1(json: Record<string, unknown>): SnapshotColumns | undefined {
  const rows = json['entries'];
  const ignored = json['ignored'];
  if (!Array.isArray(rows) || !isStringArray(ignored)) return undefined;
  const columns: SnapshotColumns = { files: [], rids: [], timestamps: [], hashes: [], micros: undefined, ignored };
  for (const row of rows as unknown[]) {
    if (!isStringArray(row, 4)) return undefined;
    const [file, rid, timestamp, hash] = row as SnapshotRowV1;
    columns.files.push(file);
    columns.rids.push(rid);
    columns.timestamps.push(timestamp);
    columns.hashes.push(hash);
  }
  return columns;
}
