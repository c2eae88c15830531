import { RID, RIDType } from '../../rid/index.ts';
import { InvalidRIDError, InvalidRIDTypeError } from '../../errors.ts';
import type {
  BundleJSON,
  BundlesPayload,
  FetchBundles,
  FetchManifests,
  FetchRids,
  ManifestJSON,
  ManifestsPayload,
  RidsPayload,
} from '../../protocol/index.ts';
import type { KnowledgeStore } from '../../cache/index.ts';
import type { Bundle } from '../../knowledge/index.ts';
import { silentLogger, type Logger } from '../../logger.ts';

/*
 * Requests and answers are the contract's bodies (snake_case). Requests are taken with or without
 * the schema defaults applied (the server's validated bodies have them, direct callers may not).
 */
/** @deprecated Use `Partial<FetchRids>` (the contract's FetchRids). */
export type FetchRidsBody = Partial<FetchRids>;
/** @deprecated Use `Partial<FetchManifests>` (the contract's FetchManifests). */
export type FetchManifestsBody = Partial<FetchManifests>;
/** @deprecated Use `FetchBundles` (the contract's). */
export type FetchBundlesBody = FetchBundles;
/** @deprecated Use `RidsPayload` (the contract's). */
export type RidsPayloadBody = RidsPayload;
/** @deprecated Use `ManifestsPayload` (the contract's). */
export type ManifestsPayloadBody = ManifestsPayload;
/** The contract's BundlesPayload as this handler answers it: `bundles` always set. */
export type BundlesPayloadBody = BundlesPayload & { bundles: BundleJSON[] };

/**
 * The cache calls the response handler needs; sync or async, so in-memory stores fit too. The
 * optional ones (the file cache has them) make the serialized answers cheaper.
 */
export type ResponseCache = Pick<KnowledgeStore, 'listRids' | 'read' | 'readManifest'> &
  Partial<Pick<KnowledgeStore, 'generation' | 'listManifests' | 'readBundleText' | 'readBundleBytes' | 'readMany'>>;

export interface FetchBundlesAnswerOptions {
  /**
   * Also list the bundles under `manifests`, where koi-net 1.0.0b6 readers look for them (the
   * server sets it for requests without a Content-Type, which is how 1.0.x clients post).
   */
  legacyManifestsField?: boolean;
}

/** Distinct type filters whose serialized listings are kept at once (per cache generation). */
const MAX_CACHED_LISTINGS = 32;

export interface ResponseHandlerOptions {
  cache: ResponseCache;
  logger?: Logger;
}

/**
 * Answers the three fetch requests from the local cache (PROTOCOL.md section 3): the server's
 * fetch operations (operations/fetch.ts) call it. Wire JSON in and out. Event broadcast and poll
 * are their own operations (broadcast.ts, poll.ts): they need the processor and the queues.
 * Also reachable as `node.network.responseHandler` (deprecated) under its old name ResponseHandler.
 */
export class ResponseHandler {
  private readonly cache: ResponseCache;
  private readonly logger: Logger;
  /** Serialized listings of the cache generation `listingsGeneration`, by request kind and types. */
  private readonly listings = new Map<string, Buffer>();
  private listingsGeneration: number | undefined;

  constructor(options: ResponseHandlerOptions) {
    this.cache = options.cache;
    this.logger = options.logger ?? silentLogger;
  }

  async fetchRids(req: Partial<FetchRids> = {}): Promise<RidsPayload> {
    const types = parseRidTypes(req.rid_types);
    if (types === null) return { rids: [] };
    const rids = await this.cache.listRids(types.length > 0 ? types : undefined);
    this.logger.debug({ ridTypes: req.rid_types ?? [], count: rids.length }, 'answered fetch rids');
    return { rids: rids.map(String) };
  }

  /**
   * The requested RIDs when any are given (rid_types is then ignored, as in the reference), else
   * every cached RID of the types. Manifests come from the cache's in-memory index, so no bundle
   * file is read.
   */
  async fetchManifests(req: Partial<FetchManifests> = {}): Promise<ManifestsPayload> {
    const manifests: ManifestJSON[] = [];
    const notFound: string[] = [];
    let candidates: (RID | string)[];
    if (req.rids && req.rids.length > 0) {
      candidates = [...req.rids];
    } else {
      const types = parseRidTypes(req.rid_types);
      candidates = types === null ? [] : await this.cache.listRids(types.length > 0 ? types : undefined);
    }
    for (const candidate of candidates) {
      const rid = toRid(candidate);
      const manifest = rid && (await this.cache.readManifest(rid));
      if (manifest) manifests.push(manifest.toJSON());
      else notFound.push(String(candidate));
    }
    this.logger.debug({ count: manifests.length, notFound: notFound.length }, 'answered fetch manifests');
    return { manifests, not_found: notFound };
  }

  /** Reads only the requested bundle files, so the cost follows the request, not the cache size. */
  async fetchBundles(req: FetchBundles, options: FetchBundlesAnswerOptions = {}): Promise<BundlesPayloadBody> {
    const bundles: BundleJSON[] = [];
    const notFound: string[] = [];
    const read = await this.readRequested(req.rids);
    req.rids.forEach((requested, i) => {
      const bundle = read[i];
      if (bundle) bundles.push(bundle.toJSON());
      else notFound.push(String(requested));
    });
    this.logger.debug({ count: bundles.length, notFound: notFound.length }, 'answered fetch bundles');
    // One array under both names: JSON serialization writes it twice, which is what b6 readers need.
    if (options.legacyManifestsField) return { bundles, manifests: bundles, not_found: notFound, deferred: [] };
    return { bundles, not_found: notFound, deferred: [] };
  }

  /**
   * fetchRids, answered as the UTF-8 JSON of its response. The listing is kept (encoded) until
   * the cache changes (its `generation` moves), so repeated listings cost one lookup.
   */
  fetchRidsJson(req: Partial<FetchRids> = {}): Buffer {
    const types = parseRidTypes(req.rid_types);
    if (types === null) return Buffer.from('{"rids":[]}');
    return this.listing(`rids ${typeKey(types)}`, () => {
      const rids = this.cache.listRids(types.length > 0 ? types : undefined);
      // Arrays of strings serialize fastest through one JSON.stringify.
      return `{"rids":${JSON.stringify(rids.map(String))}}`;
    });
  }

  /** fetchManifests as JSON text; listings by type are kept as fetchRidsJson keeps them. */
  async fetchManifestsJson(req: Partial<FetchManifests> = {}): Promise<Buffer> {
    if (req.rids && req.rids.length > 0) return Buffer.from(JSON.stringify(await this.fetchManifests(req)));
    const types = parseRidTypes(req.rid_types);
    if (types === null) return Buffer.from('{"manifests":[],"not_found":[]}');
    const listManifests = this.cache.listManifests?.bind(this.cache);
    if (listManifests === undefined) return Buffer.from(JSON.stringify(await this.fetchManifests(req)));
    return this.listing(`manifests ${typeKey(types)}`, () => {
      const manifests = listManifests(types.length > 0 ? types : undefined);
      return `{"manifests":${JSON.stringify(manifests)},"not_found":[]}`;
    });
  }

  /**
   * fetchBundles as JSON text. The bundle files are passed on as they are on disk (read and
   * checked by the cache, not rebuilt), and the answer is one copy of their bytes. The list is
   * written once, under `bundles`, unless `legacyManifestsField` asks for b6's copy.
   */
  async fetchBundlesJson(req: FetchBundles, options: FetchBundlesAnswerOptions = {}): Promise<Buffer> {
    const readBytes = this.bundleBytesReader();
    const read = readBytes === undefined ? await this.readRequested(req.rids) : undefined;
    /** The found bundles' bytes with the commas between them: the list, without its brackets. */
    const list: Buffer[] = [];
    let found = 0;
    const notFound: string[] = [];
    req.rids.forEach((requested, i) => {
      let bytes: Buffer | undefined;
      if (read !== undefined) {
        const bundle = read[i];
        bytes = bundle && Buffer.from(JSON.stringify(bundle.toJSON()));
      } else {
        // The store takes the string as it came (a cached RID's string is its key, no parse needed).
        bytes = readRequestedBytes(readBytes!, requested);
      }
      if (bytes === undefined) {
        notFound.push(String(requested));
        return;
      }
      if (found++ > 0) list.push(COMMA);
      list.push(bytes);
    });
    this.logger.debug({ count: found, notFound: notFound.length }, 'answered fetch bundles');
    const parts = [BUNDLES_OPEN, ...list];
    if (options.legacyManifestsField) parts.push(MANIFESTS_OPEN, ...list);
    parts.push(Buffer.from(`],"not_found":${JSON.stringify(notFound)},"deferred":[]}`));
    return Buffer.concat(parts);
  }

  /** The cache's bundle bytes (readBundleBytes, else readBundleText encoded); undefined when it has neither. */
  private bundleBytesReader(): ((rid: RID | string) => Buffer | undefined) | undefined {
    const { cache } = this;
    if (cache.readBundleBytes !== undefined) return (rid) => cache.readBundleBytes!(rid);
    if (cache.readBundleText === undefined) return undefined;
    return (rid) => {
      const text = cache.readBundleText!(rid);
      return text === undefined ? undefined : Buffer.from(text);
    };
  }

  /**
   * The bundles of the requested RIDs, in request order (undefined: unparsable RID or not
   * cached): one readMany when the store batches reads (PostgreSQL), else one read each.
   */
  private async readRequested(requested: readonly (RID | string)[]): Promise<(Bundle | undefined)[]> {
    const rids = requested.map((r) => toRid(r));
    const valid = rids.filter((r): r is RID => r !== undefined);
    const readMany = this.cache.readMany?.bind(this.cache);
    if (readMany === undefined) {
      const out: (Bundle | undefined)[] = [];
      for (const rid of rids) out.push(rid === undefined ? undefined : await this.cache.read(rid));
      return out;
    }
    const found = await readMany(valid);
    let next = 0;
    return rids.map((rid) => (rid === undefined ? undefined : found[next++]));
  }

  /** The kept listing `key` of the current cache generation, made by `build` when missing. */
  private listing(key: string, build: () => string): Buffer {
    const generation = this.cache.generation;
    if (generation === undefined) return Buffer.from(build());
    if (generation !== this.listingsGeneration) {
      this.listings.clear();
      this.listingsGeneration = generation;
    }
    const kept = this.listings.get(key);
    if (kept !== undefined) return kept;
    const bytes = Buffer.from(build());
    // Building may verify unchecked entries and so change the cache; keep only a stable answer.
    if (this.cache.generation === generation) {
      if (this.listings.size >= MAX_CACHED_LISTINGS) this.listings.clear();
      this.listings.set(key, bytes);
    }
    return bytes;
  }
}

const COMMA = Buffer.from(',');
const BUNDLES_OPEN = Buffer.from('{"bundles":[');
const MANIFESTS_OPEN = Buffer.from('],"manifests":[');

/** One key per list of types, repetitions aside. */
function typeKey(types: readonly RIDType[]): string {
  // Request order is kept (it is the listing's order), so [a, b] and [b, a] are two keys.
  return [...new Set(types.map(String))].join(' ');
}

/** An RID string we cannot parse cannot be cached either; it is simply not found. */
/** The bytes of a requested RID; undefined when it is not cached or does not parse. */
function readRequestedBytes(readBytes: (rid: RID | string) => Buffer | undefined, requested: RID | string): Buffer | undefined {
  try {
    return readBytes(requested);
  } catch (err) {
    if (err instanceof InvalidRIDError || err instanceof InvalidRIDTypeError) return undefined;
    throw err;
  }
}

function toRid(value: RID | string): RID | undefined {
  if (value instanceof RID) return value;
  try {
    return RID.fromString(value);
  } catch {
    return undefined;
  }
}

/**
 * Parsed type filter: [] = no filter. null = every given type was unparsable, so nothing can
 * match; dropping them instead would turn the filter into "all", the opposite of what was asked.
 */
function parseRidTypes(values: readonly string[] | undefined): RIDType[] | null {
  if (!values || values.length === 0) return [];
  const types: RIDType[] = [];
  for (const value of values) {
    try {
      types.push(RIDType.fromString(value));
    } catch {
      // skipped: see above
    }
  }
  return types.length > 0 ? types : null;
}
