import type { Client, ClientOptions, FetchOptions } from 'openapi-fetch';
import type { paths } from '../openapi-typescript/koi-net.ts';
import type { RequestBody } from '../stubs/operations.ts';
export type KoiNetClient = Client<paths, 'application/json'>;
/** Per-call fetch options other than the body (headers, signal, ...). */
export type KoiNetCallOptions = Omit<FetchOptions<unknown>, 'body' | 'params'>;
/** A typed client for one node; `baseUrl` is its KOI-net API URL, e.g. `http://host:8000/koi-net`. */
export declare function createKoiNetClient(baseUrl: string, options?: Omit<ClientOptions, 'baseUrl'>): KoiNetClient;
/** Broadcast events to this node (webhook delivery) */
export declare function broadcastEvents(client: KoiNetClient, body: RequestBody<'broadcastEvents'>, options?: KoiNetCallOptions): Promise<import("openapi-fetch").FetchResponse<{
    parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
    };
    requestBody: {
        content: {
            "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["EventsPayload"];
        };
    };
    responses: {
        200: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": null;
            };
        };
        413: import("../openapi-typescript/koi-net.ts").components["responses"]["TooLarge"];
        422: import("../openapi-typescript/koi-net.ts").components["responses"]["ValidationFailed"];
    };
}, {
    body: {
        events: import("../openapi-typescript/koi-net.ts").components["schemas"]["Event"][];
    };
    baseUrl?: string | undefined;
    mode?: RequestMode | undefined;
    method?: string | undefined;
    headers?: import("openapi-fetch").HeadersOptions | undefined;
    cache?: RequestCache | undefined;
    credentials?: RequestCredentials | undefined;
    integrity?: string | undefined;
    keepalive?: boolean | undefined;
    priority?: RequestPriority | undefined;
    redirect?: RequestRedirect | undefined;
    referrer?: string | undefined;
    referrerPolicy?: ReferrerPolicy | undefined;
    signal?: (AbortSignal | null) | undefined;
    window?: null | undefined;
    querySerializer?: import("openapi-fetch").QuerySerializer<unknown> | import("openapi-fetch").QuerySerializerOptions | undefined;
    bodySerializer?: import("openapi-fetch").BodySerializer<unknown> | undefined;
    pathSerializer?: import("openapi-fetch").PathSerializer | undefined;
    parseAs?: import("openapi-fetch").ParseAs | undefined;
    fetch?: ((input: Request) => Promise<Response>) | undefined;
    middleware?: import("openapi-fetch").Middleware[] | undefined;
}, "application/json">>;
/** Drain the caller's poll queue */
export declare function pollEvents(client: KoiNetClient, body: RequestBody<'pollEvents'>, options?: KoiNetCallOptions): Promise<import("openapi-fetch").FetchResponse<{
    parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
    };
    requestBody: {
        content: {
            "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["PollEvents"];
        };
    };
    responses: {
        200: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["EventsPayload"];
            };
        };
        413: import("../openapi-typescript/koi-net.ts").components["responses"]["TooLarge"];
        422: import("../openapi-typescript/koi-net.ts").components["responses"]["ValidationFailed"];
    };
}, {
    body: {
        rid: import("../openapi-typescript/koi-net.ts").components["schemas"]["RID"];
        limit: number;
    };
    baseUrl?: string | undefined;
    mode?: RequestMode | undefined;
    method?: string | undefined;
    headers?: import("openapi-fetch").HeadersOptions | undefined;
    cache?: RequestCache | undefined;
    credentials?: RequestCredentials | undefined;
    integrity?: string | undefined;
    keepalive?: boolean | undefined;
    priority?: RequestPriority | undefined;
    redirect?: RequestRedirect | undefined;
    referrer?: string | undefined;
    referrerPolicy?: ReferrerPolicy | undefined;
    signal?: (AbortSignal | null) | undefined;
    window?: null | undefined;
    querySerializer?: import("openapi-fetch").QuerySerializer<unknown> | import("openapi-fetch").QuerySerializerOptions | undefined;
    bodySerializer?: import("openapi-fetch").BodySerializer<unknown> | undefined;
    pathSerializer?: import("openapi-fetch").PathSerializer | undefined;
    parseAs?: import("openapi-fetch").ParseAs | undefined;
    fetch?: ((input: Request) => Promise<Response>) | undefined;
    middleware?: import("openapi-fetch").Middleware[] | undefined;
}, "application/json">>;
/** List the RIDs this node holds, optionally of some types */
export declare function fetchRids(client: KoiNetClient, body: RequestBody<'fetchRids'>, options?: KoiNetCallOptions): Promise<import("openapi-fetch").FetchResponse<{
    parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
    };
    requestBody: {
        content: {
            "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["FetchRids"];
        };
    };
    responses: {
        200: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["RidsPayload"];
            };
        };
        413: import("../openapi-typescript/koi-net.ts").components["responses"]["TooLarge"];
        422: import("../openapi-typescript/koi-net.ts").components["responses"]["ValidationFailed"];
    };
}, {
    body: {
        rid_types: import("../openapi-typescript/koi-net.ts").components["schemas"]["RIDType"][];
    };
    baseUrl?: string | undefined;
    mode?: RequestMode | undefined;
    method?: string | undefined;
    headers?: import("openapi-fetch").HeadersOptions | undefined;
    cache?: RequestCache | undefined;
    credentials?: RequestCredentials | undefined;
    integrity?: string | undefined;
    keepalive?: boolean | undefined;
    priority?: RequestPriority | undefined;
    redirect?: RequestRedirect | undefined;
    referrer?: string | undefined;
    referrerPolicy?: ReferrerPolicy | undefined;
    signal?: (AbortSignal | null) | undefined;
    window?: null | undefined;
    querySerializer?: import("openapi-fetch").QuerySerializer<unknown> | import("openapi-fetch").QuerySerializerOptions | undefined;
    bodySerializer?: import("openapi-fetch").BodySerializer<unknown> | undefined;
    pathSerializer?: import("openapi-fetch").PathSerializer | undefined;
    parseAs?: import("openapi-fetch").ParseAs | undefined;
    fetch?: ((input: Request) => Promise<Response>) | undefined;
    middleware?: import("openapi-fetch").Middleware[] | undefined;
}, "application/json">>;
/** Manifests of the given RIDs, or of every RID of the given types */
export declare function fetchManifests(client: KoiNetClient, body: RequestBody<'fetchManifests'>, options?: KoiNetCallOptions): Promise<import("openapi-fetch").FetchResponse<{
    parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
    };
    requestBody: {
        content: {
            "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["FetchManifests"];
        };
    };
    responses: {
        200: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["ManifestsPayload"];
            };
        };
        413: import("../openapi-typescript/koi-net.ts").components["responses"]["TooLarge"];
        422: import("../openapi-typescript/koi-net.ts").components["responses"]["ValidationFailed"];
    };
}, {
    body: {
        rid_types: import("../openapi-typescript/koi-net.ts").components["schemas"]["RIDType"][];
        rids: import("../openapi-typescript/koi-net.ts").components["schemas"]["RID"][];
    };
    baseUrl?: string | undefined;
    mode?: RequestMode | undefined;
    method?: string | undefined;
    headers?: import("openapi-fetch").HeadersOptions | undefined;
    cache?: RequestCache | undefined;
    credentials?: RequestCredentials | undefined;
    integrity?: string | undefined;
    keepalive?: boolean | undefined;
    priority?: RequestPriority | undefined;
    redirect?: RequestRedirect | undefined;
    referrer?: string | undefined;
    referrerPolicy?: ReferrerPolicy | undefined;
    signal?: (AbortSignal | null) | undefined;
    window?: null | undefined;
    querySerializer?: import("openapi-fetch").QuerySerializer<unknown> | import("openapi-fetch").QuerySerializerOptions | undefined;
    bodySerializer?: import("openapi-fetch").BodySerializer<unknown> | undefined;
    pathSerializer?: import("openapi-fetch").PathSerializer | undefined;
    parseAs?: import("openapi-fetch").ParseAs | undefined;
    fetch?: ((input: Request) => Promise<Response>) | undefined;
    middleware?: import("openapi-fetch").Middleware[] | undefined;
}, "application/json">>;
/** Bundles of the given RIDs */
export declare function fetchBundles(client: KoiNetClient, body: RequestBody<'fetchBundles'>, options?: KoiNetCallOptions): Promise<import("openapi-fetch").FetchResponse<{
    parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
    };
    requestBody: {
        content: {
            "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["FetchBundles"];
        };
    };
    responses: {
        200: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": import("../openapi-typescript/koi-net.ts").components["schemas"]["BundlesPayload"];
            };
        };
        413: import("../openapi-typescript/koi-net.ts").components["responses"]["TooLarge"];
        422: import("../openapi-typescript/koi-net.ts").components["responses"]["ValidationFailed"];
    };
}, {
    body: {
        rids: import("../openapi-typescript/koi-net.ts").components["schemas"]["RID"][];
    };
    baseUrl?: string | undefined;
    mode?: RequestMode | undefined;
    method?: string | undefined;
    headers?: import("openapi-fetch").HeadersOptions | undefined;
    cache?: RequestCache | undefined;
    credentials?: RequestCredentials | undefined;
    integrity?: string | undefined;
    keepalive?: boolean | undefined;
    priority?: RequestPriority | undefined;
    redirect?: RequestRedirect | undefined;
    referrer?: string | undefined;
    referrerPolicy?: ReferrerPolicy | undefined;
    signal?: (AbortSignal | null) | undefined;
    window?: null | undefined;
    querySerializer?: import("openapi-fetch").QuerySerializer<unknown> | import("openapi-fetch").QuerySerializerOptions | undefined;
    bodySerializer?: import("openapi-fetch").BodySerializer<unknown> | undefined;
    pathSerializer?: import("openapi-fetch").PathSerializer | undefined;
    parseAs?: import("openapi-fetch").ParseAs | undefined;
    fetch?: ((input: Request) => Promise<Response>) | undefined;
    middleware?: import("openapi-fetch").Middleware[] | undefined;
}, "application/json">>;
