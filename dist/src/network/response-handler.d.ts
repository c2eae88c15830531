import type { BundleWire, ManifestWire } from '../knowledge/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { type Logger } from '../logger.ts';
export interface FetchRidsBody {
    rid_types?: readonly string[] | undefined;
}
export interface FetchManifestsBody {
    rid_types?: readonly string[] | undefined;
    rids?: readonly string[] | undefined;
}
export interface FetchBundlesBody {
    rids: readonly string[];
}
export interface RidsPayloadBody {
    rids: string[];
}
export interface ManifestsPayloadBody {
    manifests: ManifestWire[];
    not_found: string[];
}
export interface BundlesPayloadBody {
    bundles: BundleWire[];
    /** The same list again, for 1.0.0b6 readers (see FetchBundlesAnswerOptions). */
    manifests?: BundleWire[];
    not_found: string[];
    deferred: string[];
}
/**
 * The cache calls the response handler needs; sync or async, so in-memory stores fit too. The
 * optional ones (the file cache has them) make the serialized answers cheaper.
 */
export type ResponseCache = Pick<KnowledgeStore, 'listRids' | 'read' | 'readManifest'> & Partial<Pick<KnowledgeStore, 'generation' | 'listManifests' | 'readBundleText'>>;
export interface FetchBundlesAnswerOptions {
    /**
     * Also list the bundles under `manifests`, where koi-net 1.0.0b6 readers look for them (the
     * server sets it for requests without a Content-Type, which is how 1.0.x clients post).
     */
    legacyManifestsField?: boolean;
}
export interface ResponseHandlerOptions {
    cache: ResponseCache;
    logger?: Logger;
}
/**
 * Answers the three fetch requests from the local cache (PROTOCOL.md section 3). Wire JSON in and
 * out, so the server's operation handlers can call it directly. Event broadcast and poll are not
 * here: they need the processor and the queues (the node wires them).
 */
export declare class ResponseHandler {
    private readonly cache;
    private readonly logger;
    /** Serialized listings of the cache generation `listingsGeneration`, by request kind and types. */
    private readonly listings;
    private listingsGeneration;
    constructor(options: ResponseHandlerOptions);
    fetchRids(req?: FetchRidsBody): Promise<RidsPayloadBody>;
    /**
     * The requested RIDs when any are given (rid_types is then ignored, as in the reference), else
     * every cached RID of the types. Manifests come from the cache's in-memory index, so no bundle
     * file is read.
     */
    fetchManifests(req?: FetchManifestsBody): Promise<ManifestsPayloadBody>;
    /** Reads only the requested bundle files, so the cost follows the request, not the cache size. */
    fetchBundles(req: FetchBundlesBody, options?: FetchBundlesAnswerOptions): Promise<BundlesPayloadBody>;
    /**
     * fetchRids, answered as the UTF-8 JSON of its response. The listing is kept (encoded) until
     * the cache changes (its `generation` moves), so repeated listings cost one lookup.
     */
    fetchRidsJson(req?: FetchRidsBody): Buffer;
    /** fetchManifests as JSON text; listings by type are kept as fetchRidsJson keeps them. */
    fetchManifestsJson(req?: FetchManifestsBody): Promise<Buffer>;
    /**
     * fetchBundles as JSON text. The bundle files are passed on as they are on disk (read and
     * checked by the cache, not rebuilt), so the cost is the reads and one parse per bundle. The
     * list is written once, under `bundles`, unless `legacyManifestsField` asks for b6's copy.
     */
    fetchBundlesJson(req: FetchBundlesBody, options?: FetchBundlesAnswerOptions): Promise<Buffer>;
    /** The kept listing `key` of the current cache generation, made by `build` when missing. */
    private listing;
}
