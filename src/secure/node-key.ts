import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger, type Logger } from '../logger.ts';
import { NodeKeyPair } from './keys.ts';

export interface NodeKeyFileOptions {
  /** Encrypts the PEM (PKCS#8, AES-256-CBC) as the reference does with its env password. */
  passphrase?: string | undefined;
  /** Keep the PEM there instead of the file (e.g. PostgreSQL); the same PEM, encrypted alike. */
  storage?: PemStorage;
  logger?: Logger;
}

/** Where a node key's PEM is kept when not in a file: the seam a second backend implements. */
export interface PemStorage {
  /** Names the place in logs. */
  readonly where: string;
  read(): Promise<string | undefined>;
  /** Stores the PEM once; a PEM already there is never overwritten (the key is the identity). */
  write(pem: string): Promise<void>;
}

/**
 * Loads the node's private key, creating it on first start. The key *is* the node's identity in
 * the signed protocol (the RID hashes its public key), so a lost file means a new node RID: it is
 * written once, owner-only (0600), and never overwritten. The passphrase is never logged.
 */
export async function loadOrCreateNodeKey(filePath: string, options: NodeKeyFileOptions = {}): Promise<NodeKeyPair> {
  const logger = options.logger ?? silentLogger;
  if (options.storage) {
    const storage = options.storage;
    const stored = await storage.read();
    if (stored !== undefined) return NodeKeyPair.fromPkcs8Pem(stored, options.passphrase);
    const created = NodeKeyPair.generate();
    const pem = created.exportPkcs8Pem(options.passphrase);
    await storage.write(pem);
    // Another process of the same node may have stored its key first: that one is the node's.
    const kept = await storage.read();
    if (kept !== undefined && kept !== pem) return NodeKeyPair.fromPkcs8Pem(kept, options.passphrase);
    logger.info({ store: storage.where, encrypted: options.passphrase !== undefined }, 'generated node private key');
    return created;
  }
  let pem: string | undefined;
  try {
    pem = await readFile(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (pem !== undefined) return NodeKeyPair.fromPkcs8Pem(pem, options.passphrase);

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
