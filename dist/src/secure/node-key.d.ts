import { type Logger } from '../logger.ts';
import { NodeKeyPair } from './keys.ts';
export interface NodeKeyFileOptions {
    /** Encrypts the PEM (PKCS#8, AES-256-CBC) as the reference does with its env password. */
    passphrase?: string | undefined;
    logger?: Logger;
}
/**
 * Loads the node's private key, creating it on first start. The key *is* the node's identity in
 * the signed protocol (the RID hashes its public key), so a lost file means a new node RID: it is
 * written once, owner-only (0600), and never overwritten. The passphrase is never logged.
 */
export declare function loadOrCreateNodeKey(filePath: string, options?: NodeKeyFileOptions): Promise<NodeKeyPair>;
