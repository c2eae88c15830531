import type { components, operations as OpenApiOperations } from '../openapi-typescript/koi-net.ts';
type SchemaName = keyof components['schemas'];
/** What the server router and the validator need to know about each operation. */
export interface OperationSpec {
    readonly method: 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
    readonly path: string;
    readonly requestSchema: SchemaName | null;
    readonly responseSchema: SchemaName | null;
}
export declare const operations: {
    /** Broadcast events to this node (webhook delivery) */
    readonly broadcastEvents: {
        readonly method: "post";
        readonly path: "/events/broadcast";
        readonly requestSchema: "EventsPayload";
        readonly responseSchema: null;
    };
    /** Drain the caller's poll queue */
    readonly pollEvents: {
        readonly method: "post";
        readonly path: "/events/poll";
        readonly requestSchema: "PollEvents";
        readonly responseSchema: "EventsPayload";
    };
    /** List the RIDs this node holds, optionally of some types */
    readonly fetchRids: {
        readonly method: "post";
        readonly path: "/rids/fetch";
        readonly requestSchema: "FetchRids";
        readonly responseSchema: "RidsPayload";
    };
    /** Manifests of the given RIDs, or of every RID of the given types */
    readonly fetchManifests: {
        readonly method: "post";
        readonly path: "/manifests/fetch";
        readonly requestSchema: "FetchManifests";
        readonly responseSchema: "ManifestsPayload";
    };
    /** Bundles of the given RIDs */
    readonly fetchBundles: {
        readonly method: "post";
        readonly path: "/bundles/fetch";
        readonly requestSchema: "FetchBundles";
        readonly responseSchema: "BundlesPayload";
    };
};
export type OperationId = keyof typeof operations;
/** JSON request body of an operation (`never` when it takes none). */
export type RequestBody<Op extends OperationId> = OpenApiOperations[Op] extends {
    requestBody: {
        content: {
            'application/json': infer B;
        };
    };
} ? B : never;
/** JSON body of an operation's 200 response. */
export type ResponseBody<Op extends OperationId> = OpenApiOperations[Op] extends {
    responses: {
        200: {
            content: {
                'application/json': infer B;
            };
        };
    };
} ? B : never;
/** One async method per operation: what a server must implement to serve the contract. */
export interface KoiNetHandlers {
    /** Broadcast events to this node (webhook delivery) */
    broadcastEvents(body: OpenApiOperations['broadcastEvents']['requestBody']['content']['application/json']): Promise<OpenApiOperations['broadcastEvents']['responses'][200]['content']['application/json']>;
    /** Drain the caller's poll queue */
    pollEvents(body: OpenApiOperations['pollEvents']['requestBody']['content']['application/json']): Promise<OpenApiOperations['pollEvents']['responses'][200]['content']['application/json']>;
    /** List the RIDs this node holds, optionally of some types */
    fetchRids(body: OpenApiOperations['fetchRids']['requestBody']['content']['application/json']): Promise<OpenApiOperations['fetchRids']['responses'][200]['content']['application/json']>;
    /** Manifests of the given RIDs, or of every RID of the given types */
    fetchManifests(body: OpenApiOperations['fetchManifests']['requestBody']['content']['application/json']): Promise<OpenApiOperations['fetchManifests']['responses'][200]['content']['application/json']>;
    /** Bundles of the given RIDs */
    fetchBundles(body: OpenApiOperations['fetchBundles']['requestBody']['content']['application/json']): Promise<OpenApiOperations['fetchBundles']['responses'][200]['content']['application/json']>;
}
export {};
