import { RID, RIDType } from "../rid/index.js";
import { silentLogger } from "../logger.js";
/**
 * Answers the three fetch requests from the local cache (PROTOCOL.md section 3). Wire JSON in and
 * out, so the server's operation handlers can call it directly. Event broadcast and poll are not
 * here: they need the processor and the queues (the node wires them).
 */
export class ResponseHandler {
    cache;
    logger;
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
    async fetchBundles(req) {
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
        return { bundles, manifests: bundles, not_found: notFound, deferred: [] };
    }
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