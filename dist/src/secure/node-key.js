import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger } from "../logger.js";
import { NodeKeyPair } from "./keys.js";
/**
 * Loads the node's private key, creating it on first start. The key *is* the node's identity in
 * the signed protocol (the RID hashes its public key), so a lost file means a new node RID: it is
 * written once, owner-only (0600), and never overwritten. The passphrase is never logged.
 */
export async function loadOrCreateNodeKey(filePath, options = {}) {
    const logger = options.logger ?? silentLogger;
    let pem;
    try {
        pem = await readFile(filePath, 'utf8');
    }
    catch (err) {
        if (err.code !== 'ENOENT')
            throw err;
    }
    if (pem !== undefined)
        return NodeKeyPair.fromPkcs8Pem(pem, options.passphrase);
    const keyPair = NodeKeyPair.generate();
    await mkdir(dirname(filePath), { recursive: true });
    const tmp = `${filePath}.tmp-${process.pid}`;
    // mode on create so the key is never readable by others, not even between write and chmod.
    await writeFile(tmp, keyPair.exportPkcs8Pem(options.passphrase), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, filePath);
    logger.info({ filePath, encrypted: options.passphrase !== undefined }, 'generated node private key');
    return keyPair;
}
//# sourceMappingURL=node-key.js.map