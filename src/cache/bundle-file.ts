/** Reading bundle files on the main thread: parse and check, the served-read fast path. */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { Bundle, Manifest, isJsonObject } from '../knowledge/index.ts';
import { CacheError } from '../errors.ts';
import { parseBundleJson } from './bundle-json.ts';
import { takeContentsText } from './contents-text.ts';

/** Temp files of an interrupted write: `<name>.tmp-<pid>-<counter>`. */
export const TEMP_FILE = /\.tmp-\d+-\d+$/;

/**
 * The path of a file of the cache directory. `directoryPrefix` is the resolved directory with one
 * trailing separator: concatenation, not join(), since the name has no separator and join's
 * normalization cost ~3 µs on every file written.
 */
export function cachePath(directoryPrefix: string, fileName: string): string {
  // cacheFileName never yields these; the check keeps that promise independent of it.
  if (fileName.includes('/') || fileName.includes('\\') || fileName === '.' || fileName === '..') {
    throw new CacheError(`refusing cache file name outside the cache directory: ${fileName}`);
  }
  return directoryPrefix + fileName;
}

/**
 * Bundle.fromJSON, minus its cost: the Bundle schema is "a Manifest plus any JSON object", so it
 * is checked as such, which spares the schema validator's deep copy (structuredClone) and walk of
 * every file's contents, on each read and on every file of the start-up scan.
 */
export function parseBundleFile(text: string): Bundle {
  const { manifest, contents } = parseBundleJson(text);
  return new Bundle(Manifest.fromJSON(manifest), contents);
}

/**
 * `JSON.stringify(bundle.toJSON())`, the text the write-behind keeps and the writer lays out, made
 * without building the wire objects: the manifest's three strings are escaped one by one and only
 * the contents go through JSON.stringify whole (a third less time per 1 KB bundle, on every
 * event ingest caches). Contents with a `toJSON` of their own take the plain route, which calls it
 * with the key `contents` as JSON.stringify would.
 */
export function compactBundleJson(bundle: Bundle): string {
  const { manifest, contents } = bundle;
  if (typeof (contents as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(bundle.toJSON());
  // Contents read from a compact text keep it (contents-text.ts): no second serialization.
  const contentsText = takeContentsText(contents) ?? JSON.stringify(contents);
  return (
    `{"manifest":{"rid":${JSON.stringify(manifest.rid.toString())},"timestamp":${JSON.stringify(manifest.timestamp)},` +
    `"sha256_hash":${JSON.stringify(manifest.sha256Hash)}},"contents":${contentsText}}`
  );
}

/**
 * `text` when it is exactly `{manifest, contents}` with the index's manifest (the common case:
 * no manifest validation or re-serialization needed), else the bundle as read() would return it,
 * serialized. Throws when the file is not a valid bundle of `key`.
 */
export function checkedBundleText(text: string, key: string, indexed: Manifest | undefined): string {
  const { manifest: m, contents, json } = parseBundleJson(text);
  const asIndexed =
    indexed !== undefined &&
    isJsonObject(m) &&
    m['rid'] === key &&
    m['timestamp'] === indexed.timestamp &&
    m['sha256_hash'] === indexed.sha256Hash &&
    Object.keys(m).length === 3;
  if (asIndexed && Object.keys(json).length === 2) return text;
  const bundle = new Bundle(Manifest.fromJSON(m), contents);
  if (bundle.rid.toString() !== key) throw new Error(`file holds the bundle of ${bundle.rid.toString()}`);
  return JSON.stringify(bundle.toJSON());
}

/** Reads served files go through one buffer: open + read + close, no stat and no allocation. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The file read into READ_BUFFER: its length, or undefined when it may not fit (then read it whole). */
function readIntoBuffer(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, 0);
    return n < READ_BUFFER.length ? n : undefined;
  } finally {
    closeSync(fd);
  }
}

/** The file's bytes, in a buffer of their own (kept by the served-bytes cache, so not a pool slice). */
export function readSmallFile(path: string): Buffer {
  const n = readIntoBuffer(path);
  if (n === undefined) return readFileSync(path);
  const bytes = Buffer.allocUnsafeSlow(n);
  READ_BUFFER.copy(bytes, 0, 0, n);
  return bytes;
}

export function readSmallTextFile(path: string): string {
  const n = readIntoBuffer(path);
  return n === undefined ? readFileSync(path, 'utf8') : READ_BUFFER.toString('utf8', 0, n);
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Files read synchronously between two yields to the event loop (start-up scan, verifier on this thread). */
export const SCAN_SLICE = 256;
