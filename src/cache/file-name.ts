import { createHash } from 'node:crypto';
import { RID } from '../rid/index.ts';
import { parseRidUncached } from '../rid/rid.ts';

import { MAX_FILE_NAME_BYTES } from './file-writer.ts';

export { MAX_FILE_NAME_BYTES };

/** Prefix of hashed names; `~` is outside the base64url alphabet so they never collide. */
export const HASHED_NAME_PREFIX = '~';

/**
 * The cache file name of an RID, as rid-lib names it: urlsafe base64 (RFC 4648 section 5) of the
 * UTF-8 of the normalized RID string, `=` padding stripped, plus `.json`. Neither alphabet has
 * `/`, `\` or a leading `.`, so no RID can make a name that leaves the cache directory.
 *
 * RIDs whose name would pass 255 bytes (RID strings past ~187 bytes) cannot be stored by rid-lib
 * at all (OSError). We store them under `~<sha256 hex of the RID string>.json` instead and recover
 * the RID from the manifest inside the file. rid-lib cannot read such files back by name (and its
 * list_rids, which decodes every file name, would fail on one); it could never have written them.
 */
export function cacheFileName(rid: RID | string): string {
  const ridString = RID.of(rid).toString();
  const name = `${Buffer.from(ridString, 'utf8').toString('base64url')}.json`;
  if (name.length <= MAX_FILE_NAME_BYTES) return name;
  return `${HASHED_NAME_PREFIX}${createHash('sha256').update(ridString, 'utf8').digest('hex')}.json`;
}

const BASE64URL_NAME = /^[A-Za-z0-9_-]+\.json$/;
const DECODE_SCRATCH = Buffer.allocUnsafeSlow(256);

/**
 * The RID whose canonical cache file name is `fileName`, or undefined when the name is not one
 * (a `~<sha256>` name, a name written by another implementation or an older normalization, a
 * name that does not decode to a valid RID). Only an exact round trip counts: Node's base64url
 * decoder skips characters outside the alphabet, and several RID strings normalize to one RID,
 * so decoding alone would attribute a foreign file to the wrong RID. Callers read the files this
 * rejects to learn their RID.
 */
export function ridFromCacheFileName(fileName: string): RID | undefined {
  // Longer names are never canonical (cacheFileName hashes those RIDs), and the scratch below holds 256 bytes.
  if (fileName.length > MAX_FILE_NAME_BYTES || !BASE64URL_NAME.test(fileName)) return undefined;
  const base = fileName.slice(0, -'.json'.length);
  // Decoded into one scratch buffer (a name is at most 255 characters, so at most 191 bytes): a
  // Buffer per name was a third of this function's cost, and its garbage, for 100k names at once.
  const length = DECODE_SCRATCH.write(base, 0, 'base64url');
  const ridString = DECODE_SCRATCH.toString('utf8', 0, length);
  let rid: RID;
  try {
    // Uncached: after a crash, 100k distinct names go through here at once (see parseRidUncached).
    rid = parseRidUncached(ridString);
  } catch {
    return undefined;
  }
  // The round trip below, without encoding the name again (~40% of this function's cost, which
  // runs for every file after a crash): the name is canonical base64url, the bytes are UTF-8
  // (decoding replaced nothing with U+FFFD, so the string encodes back to them; an RID that holds
  // U+FFFD itself takes the round trip) and the RID keeps its string. Otherwise the round trip
  // decides.
  if (isCanonicalBase64url(base) && !ridString.includes('\uFFFD') && rid.toString() === ridString) return rid;
  return cacheFileName(rid) === fileName ? rid : undefined;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether the encoder (unpadded base64url) gives back exactly `base` (of alphabet characters) for
 * the bytes it decodes to: not one character past a byte boundary (length % 4 === 1 decodes to
 * nothing for it), and no set bits in the last character's unused low bits, which the decoder
 * drops.
 */
export function isCanonicalBase64url(base: string): boolean {
  const rest = base.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = BASE64URL_ALPHABET.indexOf(base[base.length - 1]!);
  // 2 characters carry 1 byte (4 unused bits), 3 carry 2 bytes (2 unused bits).
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}
