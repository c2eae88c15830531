import { type KnowledgeHandler } from '../processor/index.ts';
import { RID } from '../rid/index.ts';
/** The one request the catch-up makes; `RequestHandler` fits. */
export interface RidFetcher {
    fetchRids(target: {
        node: string;
    }, req: {
        rid_types?: readonly string[];
    }): Promise<{
        rids: readonly (RID | string)[];
    }>;
}
export interface ContactHandlersOptions {
    /** RID types requested on the edge beyond node and edge. */
    extraRidTypes?: readonly string[];
    /**
     * Where catch-up requests go. Default: the context's network when it exposes a
     * `requestHandler` (a NetworkInterface does); without one the catch-up is skipped.
     */
    fetcher?: RidFetcher | (() => RidFetcher);
    /** Fetch the node RIDs the contact knows and handle the unknown ones. Default true. */
    catchUp?: boolean;
}
export declare function contactHandlers(options?: ContactHandlersOptions): KnowledgeHandler[];
