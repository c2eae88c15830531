import { RID, RIDType } from "../rid/index.js";
import { silentLogger } from "../logger.js";
/** Distinct type filters whose serialized listings are kept at once (per cache generation). */
const MAX_CACHED_LISTINGS = 32;
/**
 * Answers the three fetch requests from the local cache (PROTOCOL.md section 3). Wire JSON in and
 * out, so the server's operation handlers can call it directly. Event broadcast and poll are not
 * here: they need the processor and the queues (the node wires them).
 */
export class ResponseHandler {
    cache;
    logger;
    /** Serialized listings of the cache generation `listingsGeneration`, by request kind and types. */
    listings = new Map();
    listingsGeneration;
    constructor(options) {
        this.cache = options.cache;
        this.logger = options.logger ?? silentLogger;
    }
    async fetchRids(req = {}) {
        const types = parseRidTypes(req.rid_types);
        if (types === null)
            return { rids: [] };
        const rids = await this.cache.listRids(types.length > 0 ? types : undefined);
        this.logger.debug({ ridTypes: req.rid_types ?? [], count: rids.length }, 'answered fetch rids');
        return { rids: rids.map(String) };
    }
    /**
     * The requested RIDs when any are given (rid_types is then ignored, as in the reference), else
     * every cached RID of the types. Manifests come from the cache's in-memory index, so no bundle
     * file is read.
     */
    async fetchManifests(req = {}) {
        const manifests = [];
        const notFound = [];
        let candidates;
        if (req.rids && req.rids.length > 0) {
            candidates = [...req.rids];
        }
        else {
            const types = parseRidTypes(req.rid_types);
            candidates = types === null ? [] : await this.cache.listRids(types.length > 0 ? types : undefined);
        }
        for (const candidate of candidates) {
            const rid = toRid(candidate);
            const manifest = rid && (await this.cache.readManifest(rid));
            if (manifest)
                manifests.push(manifest.toJSON());
            else
                notFound.push(String(candidate));
        }
        this.logger.debug({ count: manifests.length, notFound: notFound.length }, 'answered fetch manifests');
        return { manifests, not_found: notFound };
    }
    /** Reads only the requested bundle files, so the cost follows the request, not the cache size. */
    async fetchBundles(req, options = {}) {
        const bundles = [];
        const notFound = [];
        for (const requested of req.rids) {
            const rid = toRid(requested);
            const bundle = rid && (await this.cache.read(rid));
            if (bundle)
                bundles.push(bundle.toJSON());
            else
                notFound.push(String(requested));
        }
        this.logger.debug({ count: bundles.length, notFound: notFound.length }, 'answered fetch bundles');
        // One array under both names: JSON serialization writes it twice, which is what b6 readers need.
        if (options.legacyManifestsField)
            return { bundles, manifests: bundles, not_found: notFound, deferred: [] };
        return { bundles, not_found: notFound, deferred: [] };
    }
    /**
     * fetchRids, answered as the UTF-8 JSON of its response. The listing is kept (encoded) until
     * the cache changes (its `generation` moves), so repeated listings cost one lookup.
     */
    fetchRidsJson(req = {}) {
        const types = parseRidTypes(req.rid_types);
        if (types === null)
            return Buffer.from('{"rids":[]}');
        return this.listing(`rids ${typeKey(types)}`, () => {
            const rids = this.cache.listRids(types.length > 0 ? types : undefined);
            // Arrays of strings serialize fastest through one JSON.stringify.
            return `{"rids":${JSON.stringify(rids.map(String))}}`;
        });
    }
    /** fetchManifests as JSON text; listings by type are kept as fetchRidsJson keeps them. */
    async fetchManifestsJson(req = {}) {
        if (req.rids && req.rids.length > 0)
            return Buffer.from(JSON.stringify(await this.fetchManifests(req)));
        const types = parseRidTypes(req.rid_types);
        if (types === null)
            return Buffer.from('{"manifests":[],"not_found":[]}');
        const listManifests = this.cache.listManifests?.bind(this.cache);
        if (listManifests === undefined)
            return Buffer.from(JSON.stringify(await this.fetchManifests(req)));
        return this.listing(`manifests ${typeKey(types)}`, () => {
            const manifests = listManifests(types.length > 0 ? types : undefined);
            return `{"manifests":${JSON.stringify(manifests)},"not_found":[]}`;
        });
    }
    /**
     * fetchBundles as JSON text. The bundle files are passed on as they are on disk (read and
     * checked by the cache, not rebuilt), so the cost is the reads and one parse per bundle. The
     * list is written once, under `bundles`, unless `legacyManifestsField` asks for b6's copy.
     */
    async fetchBundlesJson(req, options = {}) {
        const readText = this.cache.readBundleText?.bind(this.cache);
        const texts = [];
        const notFound = [];
        for (const requested of req.rids) {
            const rid = toRid(requested);
            let text;
            if (rid !== undefined) {
                if (readText !== undefined)
                    text = readText(rid);
                else {
                    const bundle = await this.cache.read(rid);
                    text = bundle && JSON.stringify(bundle.toJSON());
                }
            }
            if (text !== undefined)
                texts.push(text);
            else
                notFound.push(String(requested));
        }
        this.logger.debug({ count: texts.length, notFound: notFound.length }, 'answered fetch bundles');
        const list = `[${texts.join(',')}]`;
        const tail = `"not_found":${JSON.stringify(notFound)},"deferred":[]}`;
        return Buffer.from(options.legacyManifestsField ? `{"bundles":${list},"manifests":${list},${tail}` : `{"bundles":${list},${tail}`);
    }
    /** The kept listing `key` of the current cache generation, made by `build` when missing. */
    listing(key, build) {
        const generation = this.cache.generation;
        if (generation === undefined)
            return Buffer.from(build());
        if (generation !== this.listingsGeneration) {
            this.listings.clear();
            this.listingsGeneration = generation;
        }
        const kept = this.listings.get(key);
        if (kept !== undefined)
            return kept;
        const bytes = Buffer.from(build());
        // Building may verify unchecked entries and so change the cache; keep only a stable answer.
        if (this.cache.generation === generation) {
            if (this.listings.size >= MAX_CACHED_LISTINGS)
                this.listings.clear();
            this.listings.set(key, bytes);
        }
        return bytes;
    }
}
/** One key per list of types, repetitions aside. */
function typeKey(types) {
    // Request order is kept (it is the listing's order), so [a, b] and [b, a] are two keys.
    return [...new Set(types.map(String))].join(' ');
}
/** An RID string we cannot parse cannot be cached either; it is simply not found. */
function toRid(value) {
    if (value instanceof RID)
        return value;
    try {
        return RID.fromString(value);
    }
    catch {
        return undefined;
    }
}
/**
 * Parsed type filter: [] = no filter. null = every given type was unparsable, so nothing can
 * match; dropping them instead would turn the filter into "all", the opposite of what was asked.
 */
function parseRidTypes(values) {
    if (!values || values.length === 0)
        return [];
    const types = [];
    for (const value of values) {
        try {
            types.push(RIDType.fromString(value));
        }
        catch {
            // skipped: see above
        }
    }
    return types.length > 0 ? types : null;
}
//# sourceMappingURL=response-handler.js.map