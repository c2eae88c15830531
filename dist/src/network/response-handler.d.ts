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
    /** The same list again, for 1.0.0b6 readers, which read the bundles from this field. */
    manifests: BundleWire[];
    not_found: string[];
    deferred: string[];
}
/** The cache calls the response handler needs; sync or async, so in-memory stores fit too. */
export type ResponseCache = Pick<KnowledgeStore, 'listRids' | 'read' | 'readManifest'>;
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
    constructor(options: ResponseHandlerOptions);
    fetchRids(req?: FetchRidsBody): Promise<RidsPayloadBody>;
    /**
     * The requested RIDs when any are given (rid_types is then ignored, as in the reference), else
     * every cached RID of the types. Manifests come from the cache's in-memory index, so no bundle
     * file is read.
     */
    fetchManifests(req?: FetchManifestsBody): Promise<ManifestsPayloadBody>;
    /** Reads only the requested bundle files, so the cost follows the request, not the cache size. */
    fetchBundles(req: FetchBundlesBody): Promise<BundlesPayloadBody>;
}
