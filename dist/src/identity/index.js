import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KoiNetNode, RID } from "../rid/index.js";
import { Bundle } from "../knowledge/index.js";
import { parseNodeProfile } from "../protocol/index.js";
import { KoiNetError } from "../errors.js";
import { silentLogger } from "../logger.js";
/**
 * This node's RID and profile. The RID is made once, on first start, and never changes afterwards:
 * peers key their graph and queues on it. The profile is whatever the node is started with now,
 * saved so that `koi-net status` and a later start can see it.
 */
export class NodeIdentity {
    rid;
    profile;
    filePath;
    cachedBundle;
    constructor(rid, profile, filePath) {
        this.rid = rid;
        this.profile = profile;
        this.filePath = filePath;
    }
    static async load(options) {
        const filePath = options.filePath ?? 'identity.json';
        const logger = options.logger ?? silentLogger;
        const keyPair = options.keyPair;
        const profile = parseNodeProfile(keyPair ? { ...options.profile, public_key: keyPair.publicKeyDerB64 } : options.profile);
        const existing = await readIdentityFile(filePath);
        let rid;
        if (keyPair) {
            // The key decides the RID: an identity file from the unsigned mode (uuid RID) or from another
            // key names a node nobody could verify, so it is replaced.
            rid = keyPair.nodeRid(existing?.rid.name ?? options.name);
            if (existing && existing.rid.toString() !== rid.toString()) {
                logger.warn({ previous: String(existing.rid), rid: String(rid) }, 'identity RID does not match the node key; using the key-derived RID');
            }
            else if (!existing) {
                logger.info({ rid: String(rid), filePath }, 'created node identity');
            }
        }
        else if (existing) {
            rid = existing.rid;
            if (rid.name !== options.name) {
                logger.warn({ rid: String(rid), configuredName: options.name }, 'configured node name differs from the identity file; keeping the existing RID');
            }
        }
        else {
            rid = KoiNetNode.generate(options.name);
            logger.info({ rid: String(rid), filePath }, 'created node identity');
        }
        if (!existing || existing.rid.toString() !== rid.toString() || JSON.stringify(existing.profile) !== JSON.stringify(profile)) {
            await writeIdentityFile(filePath, { rid: String(rid), profile });
            if (existing)
                logger.info({ rid: String(rid) }, 'node profile changed; identity file updated');
        }
        return new NodeIdentity(rid, profile, filePath);
    }
    /**
     * This node's own bundle. Made once per run so that repeated calls agree on the timestamp; the
     * manifest handler drops it at start-up when the cached copy has the same hash.
     */
    get bundle() {
        this.cachedBundle ??= Bundle.generate(this.rid, this.profile);
        return this.cachedBundle;
    }
}
async function readIdentityFile(filePath) {
    let text;
    try {
        text = await readFile(filePath, 'utf8');
    }
    catch (err) {
        if (err.code === 'ENOENT')
            return undefined;
        throw err;
    }
    let data;
    try {
        data = JSON.parse(text);
    }
    catch (err) {
        throw new KoiNetError('invalid_identity', `identity file ${filePath} is not JSON; fix or remove it`, { cause: err });
    }
    const rid = RID.fromString(String(data.rid));
    if (!(rid instanceof KoiNetNode)) {
        throw new KoiNetError('invalid_identity', `identity file ${filePath} holds ${String(data.rid)}, not an orn:koi-net.node RID`);
    }
    return { rid, profile: parseNodeProfile(data.profile) };
}
async function writeIdentityFile(filePath, data) {
    await mkdir(dirname(filePath), { recursive: true });
    const tmp = `${filePath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(data, null, 2) + '\n');
    await rename(tmp, filePath);
}
//# sourceMappingURL=index.js.map