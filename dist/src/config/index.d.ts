import { KoiNetError } from '../errors.ts';
export type NodeKind = 'full' | 'partial';
export type NodeRole = 'coordinator' | 'none';
export interface KoiNetConfig {
    /** Used for the node RID on first start; the RID never changes afterwards. */
    name: string;
    type: NodeKind;
    /** Interface the full node's server listens on. */
    host: string;
    /** 0 picks a free port at start. */
    port: number;
    /** The base URL peers use to reach us; null = `http://<host>:<port>/koi-net`. */
    baseUrl: string | null;
    /** Base URL of a full node to introduce ourselves to when we know no neighbors. */
    firstContact: string | null;
    /** The first contact's node RID: the signed protocol addresses envelopes to RIDs, not URLs. */
    firstContactRid: string | null;
    /** Wire format: unsigned 1.0.x (default) or the signed koi-net 1.1+/2.x envelopes. */
    protocol: 'unsigned' | 'signed';
    provides: {
        event: string[];
        state: string[];
    };
    /** Identity, cache and event queues live here (absolute once loaded). */
    dataDir: string;
    role: NodeRole;
    contact: {
        /** Propose edges to nodes that provide node events, and catch up from them. */
        enabled: boolean;
        /** RID types requested on those edges beyond node and edge. */
        ridTypes: string[];
    };
    pollIntervalMs: number;
    log: {
        level: string;
        pretty: boolean;
    };
    /** Largest request body the server accepts (express notation, e.g. `1mb`). */
    bodyLimit: string;
    requestTimeoutMs: number;
    /** Longest pause between first-contact handshake attempts while the node has not joined. */
    firstContactRetryMaxMs: number;
    /** Most events one broadcast request may carry (more: 422). */
    maxEventsPerBroadcast: number;
    /** Most RIDs (or RID types) one fetch request may ask for (more: 422). */
    maxRidsPerFetch: number;
    /** Most events one poll answer holds, whatever the caller's `limit`. */
    maxEventsPerPoll: number;
    /** The server cuts off a client whose request headers take longer (408). */
    serverHeadersTimeoutMs: number;
    /** The server cuts off a client whose whole request (headers and body) takes longer (408). */
    serverRequestTimeoutMs: number;
    /** The server closes a keep-alive connection idle for longer. */
    serverKeepAliveTimeoutMs: number;
}
/** A partial config, as given by flags or tests; nested objects are merged field by field. */
export type ConfigOverrides = Partial<Omit<KoiNetConfig, 'provides' | 'contact' | 'log'>> & {
    provides?: Partial<KoiNetConfig['provides']>;
    contact?: Partial<KoiNetConfig['contact']>;
    log?: Partial<KoiNetConfig['log']>;
};
export declare const DEFAULT_CONFIG_FILE = "koi-net.yaml";
/** A config value that cannot be used; `field` is the config file's (snake_case) path. */
export declare class ConfigError extends KoiNetError {
    readonly field: string;
    readonly reason: string;
    readonly source?: string | undefined;
    constructor(field: string, reason: string, source?: string | undefined);
}
export declare function defaultConfig(): KoiNetConfig;
export interface LoadConfigOptions {
    /** Highest precedence (command-line flags). */
    overrides?: ConfigOverrides;
    /** Default `process.env`; tests pass their own. */
    env?: Record<string, string | undefined>;
    /** A missing file is an error only when the caller named it explicitly. Default true. */
    mustExist?: boolean;
}
/**
 * Reads `path` (YAML) if given, applies `KOI_NET_*` environment variables and then `overrides`,
 * validates the result and resolves `data_dir` (relative paths in a file are relative to that
 * file's directory; in overrides and the environment, to the working directory).
 */
export declare function loadConfig(path?: string, options?: LoadConfigOptions): Promise<KoiNetConfig>;
/** Parses a config file's text; every field is checked, unknown fields are refused (typos). */
export declare function parseConfigText(text: string, filePath?: string): ConfigOverrides;
/** `over` wins field by field; lists are replaced, not concatenated (a flag list means "these"). */
export declare function mergeConfig(base: KoiNetConfig, over: ConfigOverrides): KoiNetConfig;
/** Checks a merged config (also one built in code); throws {@link ConfigError} naming the field. */
export declare function validateConfig(c: KoiNetConfig, source?: string): void;
/**
 * The server's request limits, in the shape `createKoiNetApp({ limits })` takes (kept structural so
 * the config module does not depend on the server).
 */
export declare function serverLimitsFromConfig(c: Pick<KoiNetConfig, 'maxEventsPerBroadcast' | 'maxRidsPerFetch' | 'maxEventsPerPoll'>): {
    maxEventsPerBroadcast: number;
    maxRidsPerFetch: number;
    maxEventsPerPoll: number;
};
/** The server's timeouts, in the shape `startServer({ timeouts })` takes. */
export declare function serverTimeoutsFromConfig(c: Pick<KoiNetConfig, 'serverHeadersTimeoutMs' | 'serverRequestTimeoutMs' | 'serverKeepAliveTimeoutMs'>): {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
};
/** The base URL this node announces in its profile. */
export declare function resolveBaseUrl(c: Pick<KoiNetConfig, 'baseUrl' | 'host' | 'port'>, port?: number): string;
/** Event and state RID types after the role is applied: a coordinator provides node and edge. */
export declare function effectiveProvides(c: KoiNetConfig): {
    event: string[];
    state: string[];
};
/** Where `start` and `status` look for a config when none is named. */
export declare function defaultConfigPath(dataDir: string): string;
/**
 * The config file to use: the one named (flag), else `KOI_NET_CONFIG`, else `<dataDir>/koi-net.yaml`
 * when a data directory was named and holds one, else `./koi-net.yaml` when present. `explicit`
 * tells whether a missing file is an error (it was asked for) or just means "defaults".
 */
export declare function findConfigFile(options?: {
    flag?: string;
    dataDir?: string;
    env?: Record<string, string | undefined>;
    cwd?: string;
}): {
    path: string;
    explicit: boolean;
} | undefined;
/**
 * Writes a commented config file with the defaults merged with `overrides`; refuses to overwrite
 * an existing file unless `force`. `data_dir` is written relative to the file, so the directory can
 * be moved as a whole. Returns the resolved config it describes.
 */
export declare function writeConfigTemplate(path: string, overrides?: ConfigOverrides, options?: {
    force?: boolean;
}): Promise<KoiNetConfig>;
/** The YAML text of a config, with a comment on every field. */
export declare function renderConfig(c: KoiNetConfig, relativeTo?: string): string;
