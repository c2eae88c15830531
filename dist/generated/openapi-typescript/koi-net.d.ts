export interface paths {
    "/events/broadcast": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Broadcast events to this node (webhook delivery)
         * @description Accepts events for processing. The answer (200, JSON `null`) is sent at once; the events are
         *     processed in the background, in order.
         */
        post: operations["broadcastEvents"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events/poll": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drain the caller's poll queue */
        post: operations["pollEvents"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rids/fetch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** List the RIDs this node holds, optionally of some types */
        post: operations["fetchRids"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/manifests/fetch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Manifests of the given RIDs, or of every RID of the given types */
        post: operations["fetchManifests"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/bundles/fetch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Bundles of the given RIDs */
        post: operations["fetchBundles"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * Format: rid
         * @description A reference identifier `<type>:<reference>`; for the namespace schemes `orn` and `urn` the
         *     type is `<scheme>:<namespace>`. Empty scheme, namespace or reference is invalid.
         * @example orn:koi-net.node:coordinator+6bd0d2bc-07aa-4f4a-9c8e-2b5a8b7d1c2e
         */
        RID: string;
        /**
         * Format: rid-type
         * @description An RID type (context) string, `<scheme>` or `orn:<namespace>` / `urn:<namespace>`.
         * @example orn:koi-net.node
         */
        RIDType: string;
        /**
         * @description NEW = an unknown RID was cached; UPDATE = a known RID was re-cached; FORGET = a known RID was deleted.
         * @enum {string}
         */
        EventType: "NEW" | "UPDATE" | "FORGET";
        Manifest: {
            rid: components["schemas"]["RID"];
            /**
             * Format: date-time
             * @description ISO 8601 date-time with an offset; Python emits `2025-04-08T14:10:19.123456Z`.
             * @example 2025-04-08T14:10:19.123456Z
             */
            timestamp: string;
            /**
             * @description SHA-256 hex of the RFC 8785 canonical JSON of the contents.
             * @example 0f3c2a9d5b8e41c7a6d2e9f0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7
             */
            sha256_hash: string;
        };
        /** @description Bundle contents, any JSON object. */
        Contents: Record<string, unknown>;
        Bundle: {
            manifest: components["schemas"]["Manifest"];
            contents: components["schemas"]["Contents"];
        };
        Event: {
            rid: components["schemas"]["RID"];
            event_type: components["schemas"]["EventType"];
            manifest?: components["schemas"]["Manifest"] | null;
            contents?: components["schemas"]["Contents"] | null;
        };
        EventsPayload: {
            events: components["schemas"]["Event"][];
        };
        PollEvents: {
            /** @description The polling node's RID; its poll queue is drained. */
            rid: components["schemas"]["RID"];
            /**
             * @description At most this many events; 0 means no limit. (The reference accepts negative values; they are refused here.)
             * @default 0
             */
            limit: number;
        };
        FetchRids: {
            /**
             * @description Only RIDs of these types; empty means all.
             * @default []
             */
            rid_types: components["schemas"]["RIDType"][];
        };
        RidsPayload: {
            rids: components["schemas"]["RID"][];
        };
        FetchManifests: {
            /** @default [] */
            rid_types: components["schemas"]["RIDType"][];
            /**
             * @description When given, these RIDs; otherwise every RID of `rid_types` (all when empty).
             * @default []
             */
            rids: components["schemas"]["RID"][];
        };
        ManifestsPayload: {
            manifests: components["schemas"]["Manifest"][];
            /** @default [] */
            not_found: components["schemas"]["RID"][];
        };
        FetchBundles: {
            rids: components["schemas"]["RID"][];
        };
        /**
         * @description `bundles` is the list; `manifests` repeats it for 1.0.0b6 readers (the seed's field name).
         *     A reader takes `bundles` when present, else `manifests`.
         */
        BundlesPayload: {
            bundles?: components["schemas"]["Bundle"][];
            manifests?: components["schemas"]["Bundle"][];
            /** @default [] */
            not_found: components["schemas"]["RID"][];
            /** @default [] */
            deferred: components["schemas"]["RID"][];
        } & (unknown | unknown);
        /**
         * @description FULL nodes serve the API (webhook + state); PARTIAL nodes only poll.
         * @enum {string}
         */
        NodeType: "FULL" | "PARTIAL";
        NodeProvides: {
            /** @default [] */
            event: components["schemas"]["RIDType"][];
            /** @default [] */
            state: components["schemas"]["RIDType"][];
        };
        /** @description Contents of an `orn:koi-net.node` bundle. `public_key` and `@context` (2.x) are accepted and kept. */
        NodeProfile: {
            /** @description The node's KOI-net API URL (FULL nodes); null or absent for PARTIAL nodes. */
            base_url?: string | null;
            node_type: components["schemas"]["NodeType"];
            provides: components["schemas"]["NodeProvides"];
            /** @description Base64 DER SubjectPublicKeyInfo (signed protocol, 1.1+). */
            public_key?: string | null;
        };
        /** @enum {string} */
        EdgeType: "WEBHOOK" | "POLL";
        /** @enum {string} */
        EdgeStatus: "PROPOSED" | "APPROVED";
        /** @description Contents of an `orn:koi-net.edge` bundle. Source provides events; target subscribes. */
        EdgeProfile: {
            source: components["schemas"]["RID"];
            target: components["schemas"]["RID"];
            edge_type: components["schemas"]["EdgeType"];
            status: components["schemas"]["EdgeStatus"];
            rid_types: components["schemas"]["RIDType"][];
        };
        ValidationError: {
            /** @description Path of the offending field, starting with `body`. */
            loc: (string | number)[];
            msg: string;
            type: string;
            input?: unknown;
            ctx?: Record<string, unknown>;
        };
        HTTPValidationError: {
            detail: components["schemas"]["ValidationError"][];
        };
        /** @description Non-validation errors (404, 405, 413, 500) carry a human-readable `detail`, as FastAPI does. */
        ErrorBody: {
            detail: string;
        };
    };
    responses: {
        /** @description The request breaks the contract; each offending field is named in `detail`. */
        ValidationFailed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["HTTPValidationError"];
            };
        };
        /** @description The request body is over the node's size limit. */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    broadcastEvents: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "events": [
                 *         {
                 *           "rid": "orn:koi-net.node:member+3f9a1c0e-2b7d-4e8a-9c51-6d0e7f2a8b94",
                 *           "event_type": "NEW",
                 *           "manifest": {
                 *             "rid": "orn:koi-net.node:member+3f9a1c0e-2b7d-4e8a-9c51-6d0e7f2a8b94",
                 *             "timestamp": "2025-04-08T14:10:19.123000Z",
                 *             "sha256_hash": "68d5b9d33d4121a0829c142488ab23fb38ceb1067a63fa25c0ae57b507a08cbf"
                 *           },
                 *           "contents": {
                 *             "node_type": "FULL",
                 *             "base_url": "http://127.0.0.1:8001/koi-net",
                 *             "provides": {
                 *               "event": [],
                 *               "state": []
                 *             }
                 *           }
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["EventsPayload"];
            };
        };
        responses: {
            /** @description Accepted. The body is JSON `null`, as the reference sends. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": null;
                };
            };
            413: components["responses"]["TooLarge"];
            422: components["responses"]["ValidationFailed"];
        };
    };
    pollEvents: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "rid": "orn:koi-net.node:member+3f9a1c0e-2b7d-4e8a-9c51-6d0e7f2a8b94",
                 *       "limit": 50
                 *     }
                 */
                "application/json": components["schemas"]["PollEvents"];
            };
        };
        responses: {
            /** @description The queued events, oldest first; they are removed from the queue. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EventsPayload"];
                };
            };
            413: components["responses"]["TooLarge"];
            422: components["responses"]["ValidationFailed"];
        };
    };
    fetchRids: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "rid_types": [
                 *         "orn:koi-net.node",
                 *         "orn:koi-net.edge"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["FetchRids"];
            };
        };
        responses: {
            /** @description The RIDs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RidsPayload"];
                };
            };
            413: components["responses"]["TooLarge"];
            422: components["responses"]["ValidationFailed"];
        };
    };
    fetchManifests: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "rid_types": [
                 *         "orn:koi-net.edge"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["FetchManifests"];
            };
        };
        responses: {
            /** @description The manifests found and the RIDs not found */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ManifestsPayload"];
                };
            };
            413: components["responses"]["TooLarge"];
            422: components["responses"]["ValidationFailed"];
        };
    };
    fetchBundles: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "rids": [
                 *         "orn:koi-net.node:coordinator+6bd0d2bc-07aa-4f4a-9c8e-2b5a8b7d1c2e"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["FetchBundles"];
            };
        };
        responses: {
            /** @description The bundles found, the RIDs not found and the RIDs deferred */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BundlesPayload"];
                };
            };
            413: components["responses"]["TooLarge"];
            422: components["responses"]["ValidationFailed"];
        };
    };
}
