/**
 * Indexing the cache directory at open: leftover temp files removed, then the index filled from
 * the snapshot when it matches the directory, else by reading every bundle file, or (a large
 * directory without a snapshot) from the file names alone, for the verifier to check afterwards.
 */
import { existsSync, readFile, readFileSync, type Dirent } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CacheError } from '../errors.ts';
import { errorCode, errorText } from '../util/error-text.ts';
import { SCAN_SLICE, TEMP_FILE, asError, parseBundleFile } from './bundle-file.ts';
import { cacheFileName, ridFromCacheFileName } from './file-name.ts';
import { indexEntry, type IndexEntry, type KnowledgeIndex } from './memory-index.ts';
import { takePrefetchedListing } from './prefetch.ts';
import { STAMPED, directoryStamp, stampMatches, type IndexSnapshot } from './snapshot.ts';
import type { CacheLogger } from './store.ts';
import type { Verifier } from './verifier.ts';

/**
 * The callback readFile, promisified: fs/promises' readFile takes more thread-pool round trips and
 * indexed 20k files about 1.5x slower.
 */
const readFileAsync = promisify(readFile);

export interface ScanParts {
  directory: string;
  pathOf(fileName: string): string;
  logger: CacheLogger;
  index: KnowledgeIndex;
  verifier: Verifier;
  snapshot: IndexSnapshot;
  /** CacheOptions.deferVerificationAbove. */
  deferAbove: number;
  /** CacheOptions.scanConcurrency. */
  concurrency: number;
}

export async function scanDirectory(parts: ScanParts): Promise<void> {
  const { directory, logger, index, snapshot } = parts;
  // Taken before anything is read: a change made after this moment changes the stamp.
  const stamp = snapshot.enabled ? directoryStamp(directory) : undefined;
  const hasSnapshot = snapshot.enabled && existsSync(snapshot.path);
  // Without a snapshot (a crash, a first start), the listing starts at once; with one, only if its
  // stamp does not vouch for the directory (a clean stop: listing 100k names, ~150 ms of CPU,
  // is then not needed).
  let listing = hasSnapshot ? undefined : listDirectory(directory);
  const snapshotJson = snapshot.read();
  if (snapshotJson !== undefined && stampMatches(snapshotJson, stamp)) {
    const stamped = snapshot.entries(snapshotJson, STAMPED);
    if (stamped !== undefined) {
      for (const entry of stamped) index.put(entry);
      return;
    }
  }
  listing ??= listDirectory(directory);
  let dirents;
  try {
    dirents = await listing;
  } catch (err) {
    throw new CacheError(`cannot list cache directory ${directory}: ${errorText(err)}`, { cause: err });
  }
  const names: string[] = [];
  const leftovers: string[] = [];
  for (const d of dirents) {
    if (!d.isFile()) continue;
    if (TEMP_FILE.test(d.name)) leftovers.push(d.name);
    else if (d.name.endsWith('.json')) names.push(d.name);
    else logger.warn({ file: d.name }, 'ignoring a file that is not a cache file');
  }
  await Promise.all(
    leftovers.map((name) =>
      unlinkQuiet(parts, name).catch((err: unknown) => logger.warn({ file: name, err: errorText(err) }, 'cannot remove a leftover temp file')),
    ),
  );

  const fromSnapshot = snapshotJson === undefined ? undefined : snapshot.entries(snapshotJson, names);
  if (fromSnapshot !== undefined) {
    for (const entry of fromSnapshot) index.put(entry);
    return;
  }

  if (names.length <= parts.deferAbove) {
    indexLoaded(parts, await readEntries(parts, names));
    return;
  }
  // Deferred verification (see verifier.ts): only names that are not the canonical name of the
  // RID they decode to are read now, since the name alone does not say their RID.
  const toRead: string[] = [];
  for (const name of names) {
    const rid = ridFromCacheFileName(name);
    if (rid === undefined) toRead.push(name);
    else index.put(indexEntry(rid, name, undefined));
  }
  indexLoaded(parts, await readEntries(parts, toRead));
}

function listDirectory(directory: string): Promise<Dirent[]> {
  // On the thread pool while this thread reads and parses the snapshot, when there is one; or
  // the one `koi-net start` began before the modules loaded (prefetch.ts).
  const listing = takePrefetchedListing(directory).then((early) => early ?? readdir(directory, { withFileTypes: true }));
  listing.catch(() => undefined);
  return listing;
}

async function unlinkQuiet(parts: ScanParts, fileName: string): Promise<void> {
  try {
    await unlink(parts.pathOf(fileName));
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') {
      throw new CacheError(`cannot delete cache file ${fileName}: ${errorText(err)}`, { cause: err });
    }
  }
}

/**
 * Reads and parses the files `names`; undefined for each that is not a valid bundle (warned).
 * Concurrency 0: synchronously, in slices with a yield to the event loop between them, measured
 * 2-3x faster than many concurrent async reads on a local disk.
 */
async function readEntries(parts: ScanParts, names: readonly string[]): Promise<(IndexEntry | undefined)[]> {
  const loaded: (IndexEntry | undefined)[] = new Array(names.length);
  const read = (name: string, text: string | Error): IndexEntry | undefined => loadEntry(parts.logger, name, text);
  if (parts.concurrency === 0) {
    for (let start = 0; start < names.length; start += SCAN_SLICE) {
      const end = Math.min(start + SCAN_SLICE, names.length);
      for (let i = start; i < end; i++) {
        let text: string | Error;
        try {
          text = readFileSync(parts.pathOf(names[i]!), 'utf8');
        } catch (err) {
          text = asError(err);
        }
        loaded[i] = read(names[i]!, text);
      }
      // Let timers and sockets run between slices; a slice of small files takes a few ms.
      if (end < names.length) await new Promise<void>((done) => setImmediate(done));
    }
    return loaded;
  }
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      let text: string | Error;
      try {
        text = await readFileAsync(parts.pathOf(names[i]!), 'utf8');
      } catch (err) {
        text = asError(err);
      }
      loaded[i] = read(names[i]!, text);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parts.concurrency, names.length) }, reader));
  return loaded;
}

function loadEntry(logger: CacheLogger, fileName: string, text: string | Error): IndexEntry | undefined {
  try {
    if (text instanceof Error) throw text;
    const { manifest } = parseBundleFile(text);
    return indexEntry(manifest.rid, fileName, manifest);
  } catch (err) {
    logger.warn({ file: fileName, err: errorText(err) }, 'skipping a cache file that is not a valid bundle');
    return undefined;
  }
}

/** Indexes files read at open, resolving two files that claim one RID as the full scan always has. */
function indexLoaded(parts: ScanParts, loaded: readonly (IndexEntry | undefined)[]): void {
  const { index, logger, verifier } = parts;
  // Directory order, so which of two files claiming one RID wins does not depend on timing.
  for (const entry of loaded) {
    if (entry === undefined) continue;
    const key = entry.rid.toString();
    const canonical = cacheFileName(entry.rid);
    if (entry.fileName !== canonical) {
      logger.warn({ rid: key, file: entry.fileName, expected: canonical }, 'cache file name does not match its RID');
    }
    const existing = index.get(key);
    if (existing?.manifest === undefined && existing !== undefined) {
      // An unverified entry has the canonical name: it wins if valid (warned then), and this
      // file takes over otherwise, as in the full scan, which never saw the invalid one.
      verifier.shadow(key, entry);
      continue;
    }
    if (existing !== undefined) {
      const keepExisting = existing.fileName === canonical;
      logger.warn(
        { rid: key, files: [existing.fileName, entry.fileName], using: keepExisting ? existing.fileName : entry.fileName },
        'two cache files hold the same RID',
      );
      if (keepExisting) continue;
    }
    index.put(entry);
  }
}
