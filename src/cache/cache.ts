import { mkdirSync, readFile as readFileCallback, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { RID, RIDType } from '../rid/index.ts';
import { Bundle, Manifest, isJsonObject } from '../knowledge/index.ts';
import { CacheError } from '../errors.ts';
import { cacheFileName, MAX_FILE_NAME_BYTES } from './file-name.ts';

/**
 * What the rest of the node needs from a bundle store. The lookups are synchronous because they
 * are answered from memory (the processor asks "is it cached, with which manifest" for every
 * kobj); only bundle reads and mutations go to storage.
 */
export interface KnowledgeStore {
  /** Number of cached bundles. */
  readonly size: number;
  /** Stores (replaces) the bundle of `bundle.rid`. */
  write(bundle: Bundle): Promise<Bundle>;
  /** The cached bundle, or undefined when there is none (or it can no longer be read). */
  read(rid: RID | string): Promise<Bundle | undefined>;
  readManifest(rid: RID | string): Manifest | undefined;
  exists(rid: RID | string): boolean;
  /** True when something was deleted. */
  delete(rid: RID | string): Promise<boolean>;
  /** RIDs of the given types; every RID when `ridTypes` is absent or empty. */
  listRids(ridTypes?: Iterable<RIDType | string>): RID[];
  /** Removes every bundle. */
  drop(): Promise<void>;
}

/** The one logging call the cache makes; the project's Logger (pino) satisfies it. */
export interface CacheLogger {
  warn(obj: object, msg?: string): void;
}

export interface CacheOptions {
  /** Default: console.warn. */
  logger?: CacheLogger;
  /**
   * How open() reads the files it indexes. 0 (default): synchronously, in slices of 256 files
   * with a yield to the event loop between slices; measured 2-3x faster than 64 concurrent
   * async reads on a local disk (each async read is several thread-pool hops). n > 0: n async
   * reads at once, better where every read has latency (network file systems).
   */
  scanConcurrency?: number;
}

interface IndexEntry {
  rid: RID;
  fileName: string;
  type: string;
  manifest: Manifest;
}

const consoleLogger: CacheLogger = {
  warn: (obj, msg) => console.warn(`[koi-net cache] ${msg ?? 'warning'}`, obj),
};

/** Temp files of an interrupted write: `<name>.tmp-<pid>-<counter>`. */
const TEMP_FILE = /\.tmp-\d+-\d+$/;

let tempCounter = 0;

/**
 * The callback readFile, promisified: fs/promises' readFile takes more thread-pool round trips and
 * indexed 20k files about 1.5x slower.
 */
const readFileAsync = promisify(readFileCallback);

/** Files read synchronously between two yields to the event loop during the start-up scan. */
const SCAN_SLICE = 256;

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * rid-lib compatible file cache: one `<base64url(rid)>.json` file per bundle holding
 * `{"manifest": ..., "contents": ...}` (see `cacheFileName` for long RIDs).
 *
 * The directory is scanned once at open into an in-memory index, so exists/readManifest/listRids
 * never touch the disk; only read() loads contents. The index assumes this process owns the
 * directory: files another process adds later are not seen until the next open.
 */
export class Cache implements KnowledgeStore {
  private readonly index = new Map<string, IndexEntry>();
  private readonly byType = new Map<string, Set<string>>();
  /** Per-RID tail of pending mutations, so the index follows the order renames happened in. */
  private readonly locks = new Map<string, Promise<unknown>>();

  private constructor(
    readonly directory: string,
    private readonly logger: CacheLogger,
  ) {}

  /** Creates the directory if needed, removes leftover temp files and indexes every bundle file. */
  static async open(dir: string, options: CacheOptions = {}): Promise<Cache> {
    const directory = resolve(dir);
    try {
      await mkdir(directory, { recursive: true });
    } catch (err) {
      throw new CacheError(`cannot create cache directory ${directory}: ${errorMessage(err)}`, { cause: err });
    }
    const cache = new Cache(directory, options.logger ?? consoleLogger);
    await cache.scan(Math.max(0, Math.floor(options.scanConcurrency ?? 0)));
    return cache;
  }

  get size(): number {
    return this.index.size;
  }

  async write(bundle: Bundle): Promise<Bundle> {
    const key = bundle.rid.toString();
    return this.exclusive(key, async () => {
      const fileName = cacheFileName(bundle.rid);
      // Two-space indent, manifest before contents: the layout rid-lib's model_dump_json(indent=2) writes.
      await this.atomicWrite(fileName, JSON.stringify(bundle.toJSON(), null, 2));
      const previous = this.index.get(key);
      this.indexPut({ rid: bundle.rid, fileName, type: bundle.rid.type.toString(), manifest: bundle.manifest });
      // A file indexed under a name that is not the canonical one (written by another
      // implementation or an older normalization) would otherwise shadow-survive a delete.
      if (previous !== undefined && previous.fileName !== fileName) await this.unlinkQuiet(previous.fileName);
      return bundle;
    });
  }

  async read(rid: RID | string): Promise<Bundle | undefined> {
    const key = ridKey(rid);
    const entry = this.index.get(key);
    if (entry === undefined) return undefined;
    let text: string;
    try {
      // Synchronous, as atomicWrite: a ~1 KB read costs less than the thread-pool hops of the
      // async one, and fetch_bundles of 100 RIDs went from ~25 ms to a few.
      text = readFileSync(this.pathOf(entry.fileName), 'utf8');
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        throw new CacheError(`cannot read cache file ${entry.fileName}: ${errorMessage(err)}`, { cause: err });
      }
      this.logger.warn({ rid: key, file: entry.fileName }, 'cache file vanished; dropping it from the index');
      this.forgetIfCurrent(key, entry);
      return undefined;
    }
    try {
      const bundle = parseBundleFile(text);
      if (bundle.rid.toString() !== key) {
        throw new Error(`file holds the bundle of ${bundle.rid.toString()}`);
      }
      return bundle;
    } catch (err) {
      this.logger.warn(
        { rid: key, file: entry.fileName, error: errorMessage(err) },
        'cache file is no longer a valid bundle; dropping it from the index',
      );
      this.forgetIfCurrent(key, entry);
      return undefined;
    }
  }

  readManifest(rid: RID | string): Manifest | undefined {
    return this.index.get(ridKey(rid))?.manifest;
  }

  exists(rid: RID | string): boolean {
    return this.index.has(ridKey(rid));
  }

  async delete(rid: RID | string): Promise<boolean> {
    const key = ridKey(rid);
    return this.exclusive(key, async () => {
      const entry = this.index.get(key);
      if (entry === undefined) return false;
      await this.unlinkQuiet(entry.fileName);
      this.indexRemove(key);
      return true;
    });
  }

  listRids(ridTypes?: Iterable<RIDType | string>): RID[] {
    const types = ridTypes === undefined ? [] : [...ridTypes].map((t) => RIDType.of(t).toString());
    if (types.length === 0) return [...this.index.values()].map((e) => e.rid);
    const out: RID[] = [];
    for (const type of new Set(types)) {
      for (const key of this.byType.get(type) ?? []) {
        const entry = this.index.get(key);
        if (entry !== undefined) out.push(entry.rid);
      }
    }
    return out;
  }

  /** Removes the directory, as rid-lib does; the next write creates it again. */
  async drop(): Promise<void> {
    try {
      await rm(this.directory, { recursive: true, force: true });
    } catch (err) {
      throw new CacheError(`cannot remove cache directory ${this.directory}: ${errorMessage(err)}`, { cause: err });
    }
    this.index.clear();
    this.byType.clear();
  }

  // --- internals ---

  private pathOf(fileName: string): string {
    // cacheFileName never yields these; the check keeps that promise independent of it.
    if (fileName.includes('/') || fileName.includes('\\') || fileName === '.' || fileName === '..') {
      throw new CacheError(`refusing cache file name outside the cache directory: ${fileName}`);
    }
    return join(this.directory, fileName);
  }

  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  /**
   * Same directory, then rename: readers (and Python nodes) see the old file or the new, never half.
   *
   * Synchronous on purpose: the processor writes one kobj at a time, so each write's latency is
   * paid in series. The async calls cost four thread-pool round trips (open, write, close, rename)
   * and capped ingest at ~2,300 events/s; the sync calls for a ~1 KB file take tens of
   * microseconds, less than those hops, and ingest runs at well over 5,000 events/s.
   */
  private async atomicWrite(fileName: string, text: string): Promise<void> {
    const suffix = `.tmp-${process.pid}-${++tempCounter}`;
    const tempName = fileName.slice(0, MAX_FILE_NAME_BYTES - suffix.length) + suffix;
    const tempPath = this.pathOf(tempName);
    try {
      try {
        writeFileSync(tempPath, text, 'utf8');
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
        // The directory went away (drop(), or removed by hand); rid-lib recreates it too.
        mkdirSync(this.directory, { recursive: true });
        writeFileSync(tempPath, text, 'utf8');
      }
      renameSync(tempPath, this.pathOf(fileName));
    } catch (err) {
      try {
        unlinkSync(tempPath);
      } catch {
        // Nothing to clean up, or cannot: the scan at the next open removes temp files.
      }
      throw new CacheError(`cannot write cache file ${fileName}: ${errorMessage(err)}`, { cause: err });
    }
  }

  private async unlinkQuiet(fileName: string): Promise<void> {
    try {
      await unlink(this.pathOf(fileName));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        throw new CacheError(`cannot delete cache file ${fileName}: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  private indexPut(entry: IndexEntry): void {
    const key = entry.rid.toString();
    const previous = this.index.get(key);
    if (previous !== undefined && previous.type !== entry.type) this.byType.get(previous.type)?.delete(key);
    this.index.set(key, entry);
    let keys = this.byType.get(entry.type);
    if (keys === undefined) {
      keys = new Set();
      this.byType.set(entry.type, keys);
    }
    keys.add(key);
  }

  private indexRemove(key: string): void {
    const entry = this.index.get(key);
    if (entry === undefined) return;
    this.index.delete(key);
    const keys = this.byType.get(entry.type);
    keys?.delete(key);
    if (keys?.size === 0) this.byType.delete(entry.type);
  }

  /** Only if no write replaced the entry meanwhile (its file is then fine). */
  private forgetIfCurrent(key: string, entry: IndexEntry): void {
    if (this.index.get(key) === entry) this.indexRemove(key);
  }

  private async scan(concurrency: number): Promise<void> {
    let dirents;
    try {
      dirents = await readdir(this.directory, { withFileTypes: true });
    } catch (err) {
      throw new CacheError(`cannot list cache directory ${this.directory}: ${errorMessage(err)}`, { cause: err });
    }
    const names: string[] = [];
    const leftovers: string[] = [];
    for (const d of dirents) {
      if (!d.isFile()) continue;
      if (TEMP_FILE.test(d.name)) leftovers.push(d.name);
      else if (d.name.endsWith('.json')) names.push(d.name);
      else this.logger.warn({ file: d.name }, 'ignoring a file that is not a cache file');
    }
    await Promise.all(
      leftovers.map((name) =>
        this.unlinkQuiet(name).catch((err: unknown) =>
          this.logger.warn({ file: name, error: errorMessage(err) }, 'cannot remove a leftover temp file'),
        ),
      ),
    );

    const loaded: (IndexEntry | undefined)[] = new Array(names.length);
    if (concurrency === 0) {
      for (let start = 0; start < names.length; start += SCAN_SLICE) {
        const end = Math.min(start + SCAN_SLICE, names.length);
        for (let i = start; i < end; i++) loaded[i] = this.loadEntry(names[i]!, this.readSyncOrError(names[i]!));
        // Let timers and sockets run between slices; a slice of small files takes a few ms.
        if (end < names.length) await new Promise<void>((done) => setImmediate(done));
      }
    } else {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < names.length) {
          const i = next++;
          let text: string | Error;
          try {
            text = await readFileAsync(this.pathOf(names[i]!), 'utf8');
          } catch (err) {
            text = err instanceof Error ? err : new Error(String(err));
          }
          loaded[i] = this.loadEntry(names[i]!, text);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
    }

    // Directory order, so which of two files claiming one RID wins does not depend on timing.
    for (const entry of loaded) {
      if (entry === undefined) continue;
      const key = entry.rid.toString();
      const canonical = cacheFileName(entry.rid);
      if (entry.fileName !== canonical) {
        this.logger.warn({ rid: key, file: entry.fileName, expected: canonical }, 'cache file name does not match its RID');
      }
      const existing = this.index.get(key);
      if (existing !== undefined) {
        const keepExisting = existing.fileName === canonical;
        this.logger.warn(
          { rid: key, files: [existing.fileName, entry.fileName], using: keepExisting ? existing.fileName : entry.fileName },
          'two cache files hold the same RID',
        );
        if (keepExisting) continue;
      }
      this.indexPut(entry);
    }
  }

  private readSyncOrError(fileName: string): string | Error {
    try {
      return readFileSync(this.pathOf(fileName), 'utf8');
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private loadEntry(fileName: string, text: string | Error): IndexEntry | undefined {
    try {
      if (text instanceof Error) throw text;
      const { manifest } = parseBundleFile(text);
      return { rid: manifest.rid, fileName, type: manifest.rid.type.toString(), manifest };
    } catch (err) {
      this.logger.warn({ file: fileName, error: errorMessage(err) }, 'skipping a cache file that is not a valid bundle');
      return undefined;
    }
  }
}

/**
 * Bundle.fromJSON, minus its cost: the Bundle schema is "a Manifest plus any JSON object", so it
 * is checked as such, which spares the schema validator's deep copy (structuredClone) and walk of
 * every file's contents, on each read and on every file of the start-up scan.
 */
function parseBundleFile(text: string): Bundle {
  const json: unknown = JSON.parse(text);
  if (!isJsonObject(json)) throw new Error('not a JSON object');
  const contents = json['contents'];
  if (!isJsonObject(contents)) throw new Error('contents is missing or not a JSON object');
  return new Bundle(Manifest.fromJSON(json['manifest']), contents);
}

function ridKey(rid: RID | string): string {
  return RID.of(rid).toString();
}
