import { KoiNetNode } from '../rid/index.ts';
import { Bundle } from '../knowledge/index.ts';
import type { NodeProfile } from '../protocol/index.ts';
import { type Logger } from '../logger.ts';
import type { NodeKeyPair } from '../secure/keys.ts';
export interface NodeIdentityOptions {
    name: string;
    profile: NodeProfile;
    /** Default `identity.json` in the working directory, as in the seed. */
    filePath?: string;
    /**
     * Signed protocol: the node's key pair. The RID is then `<name>+<sha256 of the public key>` and
     * the profile carries `public_key`, since peers check that the key hashes to the RID.
     */
    keyPair?: NodeKeyPair;
    logger?: Logger;
}
/**
 * This node's RID and profile. The RID is made once, on first start, and never changes afterwards:
 * peers key their graph and queues on it. The profile is whatever the node is started with now,
 * saved so that `koi-net status` and a later start can see it.
 */
export declare class NodeIdentity {
    readonly rid: KoiNetNode;
    readonly profile: NodeProfile;
    readonly filePath: string;
    private cachedBundle;
    private constructor();
    static load(options: NodeIdentityOptions): Promise<NodeIdentity>;
    /**
     * This node's own bundle. Made once per run so that repeated calls agree on the timestamp; the
     * manifest handler drops it at start-up when the cached copy has the same hash.
     */
    get bundle(): Bundle;
}
