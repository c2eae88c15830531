import { type ConfigOverrides, type KoiNetConfig } from './config/index.ts';
import { type NodeProfile } from './protocol/index.ts';
import { findFreePort } from './free-port.ts';
export { findFreePort };
type Flags = ReturnType<typeof parseFlags>['values'];
declare function parseFlags(argv: string[]): {
    values: {
        config?: string | undefined;
        force?: boolean | undefined;
        json?: boolean | undefined;
        help?: boolean | undefined;
        version?: boolean | undefined;
        name?: string | undefined;
        type?: string | undefined;
        host?: string | undefined;
        port?: string | undefined;
        'base-url'?: string | undefined;
        'first-contact'?: string | undefined;
        'first-contact-rid'?: string | undefined;
        protocol?: string | undefined;
        'provides-event'?: string[] | undefined;
        'provides-state'?: string[] | undefined;
        'data-dir'?: string | undefined;
        role?: string | undefined;
        'no-contact'?: boolean | undefined;
        contact?: boolean | undefined;
        'contact-rid-type'?: string[] | undefined;
        'poll-interval'?: string | undefined;
        'log-level'?: string | undefined;
        pretty?: boolean | undefined;
        'body-limit'?: string | undefined;
        'request-timeout'?: string | undefined;
        'first-contact-retry-max'?: string | undefined;
        'max-events-per-broadcast'?: string | undefined;
        'max-rids-per-fetch'?: string | undefined;
        'max-events-per-poll'?: string | undefined;
        'server-headers-timeout'?: string | undefined;
        'server-request-timeout'?: string | undefined;
        'server-keep-alive-timeout'?: string | undefined;
    };
    positionals: string[];
};
/** Flags as config overrides. Values are checked by the config validator, which names the field. */
export declare function flagsToOverrides(flags: Flags): ConfigOverrides;
/** The profile a config describes; `port` is the one actually bound (it matters for port 0). */
export declare function profileFromConfig(config: KoiNetConfig, port?: number): NodeProfile;
export interface NodeStatus {
    data_dir: string;
    identity: {
        rid: string;
        profile: NodeProfile;
    } | null;
    neighbors: {
        rid: string;
        node_type: string | null;
        base_url: string | null;
    }[];
    edges: {
        rid: string;
        source: string;
        target: string;
        edge_type: string;
        status: string;
        rid_types: string[];
    }[];
    queues: {
        webhook: Record<string, number>;
        poll: Record<string, number>;
        webhook_inflight: Record<string, number>;
    };
    cache: {
        total: number;
        by_type: Record<string, number>;
    };
}
/** Reads a node directory without changing it (no lock, no writes). */
export declare function readNodeStatus(dataDir: string): Promise<NodeStatus>;
/** Runs the command line; resolves to the exit code. */
export declare function runCli(argv: string[]): Promise<number>;
