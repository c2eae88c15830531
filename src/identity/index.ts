import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KoiNetNode, RID } from '../rid/index.ts';
import { Bundle } from '../knowledge/index.ts';
import { parseNodeProfile } from '../protocol/index.ts';
import type { NodeProfile, NodeProfileInput } from '../protocol/index.ts';
import { KoiNetError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { NodeKeyPair } from '../secure/keys.ts';
import { atomicWrite } from '../storage/atomic-write.ts';

/** The identity file as the reference writes it: `{"rid": ..., "profile": {...}}`. */
interface IdentityFile {
  rid: string;
  profile: NodeProfile;
}

/**
 * Where an identity is kept, when not in a file: the seam a second backend (PostgreSQL) implements.
 * `read` gives the saved `{rid, profile}` as stored (checked here as the file is), or undefined.
 */
export interface IdentityStorage {
  /** Names the place in messages and logs, e.g. `postgres://koi@host/db (koi_identity)`. */
  readonly where: string;
  read(): Promise<{ rid: unknown; profile: unknown } | undefined>;
  write(data: { rid: string; profile: NodeProfile }): Promise<void>;
  /**
   * Stores `data` only when no identity is stored yet, and returns the RID stored now: a storage
   * several processes share makes the first start race-free with it (one RID wins).
   */
  create?(data: { rid: string; profile: NodeProfile }): Promise<string>;
}

export interface NodeIdentityOptions {
  name: string;
  profile: NodeProfileInput;
  /** Default `identity.json` in the working directory, as in the seed. */
  filePath?: string;
  /**
   * Signed protocol: the node's key pair. The RID is then `<name>+<sha256 of the public key>` and
   * the profile carries `public_key`, since peers check that the key hashes to the RID.
   */
  keyPair?: NodeKeyPair;
  /** Keep the identity there instead of `filePath`. */
  storage?: IdentityStorage;
  logger?: Logger;
}

/**
 * This node's RID and profile. The RID is made once, on first start, and never changes afterwards:
 * peers key their graph and queues on it. The profile is whatever the node is started with now,
 * saved so that `koi-net status` and a later start can see it.
 */
export class NodeIdentity {
  private cachedBundle: Bundle | undefined;

  private constructor(
    readonly rid: KoiNetNode,
    readonly profile: NodeProfile,
    readonly filePath: string,
  ) {}

  static async load(options: NodeIdentityOptions): Promise<NodeIdentity> {
    const storage = options.storage ?? fileStorage(options.filePath ?? 'identity.json');
    const filePath = storage.where;
    const logger = options.logger ?? silentLogger;
    const keyPair = options.keyPair;
    const profile = parseNodeProfile(
      keyPair ? { ...options.profile, public_key: keyPair.publicKeyDerB64 } : options.profile,
    );
    const existing = await readIdentity(storage);

    let rid: KoiNetNode;
    if (keyPair) {
      // The key decides the RID: an identity file from the unsigned mode (uuid RID) or from another
      // key names a node nobody could verify, so it is replaced.
      rid = keyPair.nodeRid(existing?.rid.name ?? options.name);
      if (existing && existing.rid.toString() !== rid.toString()) {
        logger.warn({ previous: String(existing.rid), rid: String(rid) }, 'identity RID does not match the node key; using the key-derived RID');
      } else if (!existing) {
        logger.info({ rid: String(rid), filePath }, 'created node identity');
      }
    } else if (existing) {
      rid = existing.rid;
      if (rid.name !== options.name) {
        logger.warn(
          { rid: String(rid), configuredName: options.name },
          'configured node name differs from the identity file; keeping the existing RID',
        );
      }
    } else {
      rid = KoiNetNode.generate(options.name);
      if (storage.create) {
        const stored = await storage.create({ rid: String(rid), profile });
        if (stored !== String(rid)) {
          // Another process of this node created it first: that RID is the node's.
          const won = await readIdentity(storage);
          if (won) return NodeIdentity.load({ ...options, storage });
        }
      }
      logger.info({ rid: String(rid), filePath }, 'created node identity');
    }

    if (!existing || existing.rid.toString() !== rid.toString() || JSON.stringify(existing.profile) !== JSON.stringify(profile)) {
      await storage.write({ rid: String(rid), profile });
      if (existing) logger.info({ rid: String(rid) }, 'node profile changed; identity file updated');
    }
    return new NodeIdentity(rid, profile, filePath);
  }

  /**
   * This node's own bundle. Made once per run so that repeated calls agree on the timestamp; the
   * manifest handler drops it at start-up when the cached copy has the same hash.
   */
  get bundle(): Bundle {
    this.cachedBundle ??= Bundle.generate(this.rid, this.profile);
    return this.cachedBundle;
  }
}

/**
 * The identity a node saved, read without changing anything (for `koi-net status`); undefined
 * when the node never started. Throws `invalid_identity` on a file the node would refuse too.
 */
export function readNodeIdentity(filePath: string): Promise<{ rid: KoiNetNode; profile: NodeProfile } | undefined> {
  return readIdentity(fileStorage(filePath));
}

async function readIdentity(storage: IdentityStorage): Promise<{ rid: KoiNetNode; profile: NodeProfile } | undefined> {
  const data = await storage.read();
  if (data === undefined) return undefined;
  const rid = RID.fromString(String(data.rid));
  if (!(rid instanceof KoiNetNode)) {
    throw new KoiNetError('invalid_identity', `identity ${storage.where} holds ${String(data.rid)}, not an orn:koi-net.node RID`);
  }
  return { rid, profile: parseNodeProfile(data.profile) };
}

/** The identity file as the reference writes it. */
function fileStorage(filePath: string): IdentityStorage {
  return {
    where: filePath,
    read: async () => {
      let text: string;
      try {
        text = await readFile(filePath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      try {
        const data = JSON.parse(text) as Partial<IdentityFile>;
        return { rid: data.rid, profile: data.profile };
      } catch (err) {
        throw new KoiNetError('invalid_identity', `identity file ${filePath} is not JSON; fix or remove it`, { cause: err });
      }
    },
    write: (data) => writeIdentityFile(filePath, data),
  };
}

async function writeIdentityFile(filePath: string, data: IdentityFile): Promise<void> {
  await mkdir(dirname(filePath), { recursive: true });
  await atomicWrite(filePath, JSON.stringify(data, null, 2) + '\n');
}
