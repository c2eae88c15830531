/** `koi-net init`: a commented config and the node identity, so the RID can be handed out before the first start. */
import { join, resolve } from 'node:path';
import { defaultConfigPath, flagsToOverrides, privateKeyPassword, profileFromConfig, writeConfigTemplate, type ConfigOverrides } from '../config/index.ts';
import { DataDirLock } from '../data-dir-lock.ts';
import { NodeIdentity } from '../identity/index.ts';
import { loadOrCreateNodeKey } from '../secure/index.ts';
import { stringFlag, type Flags } from './args.ts';

export async function cmdInit(flags: Flags): Promise<number> {
  const overrides = flagsToOverrides(flags);
  const name = overrides.name ?? 'node';
  const dataDir = resolve(overrides.dataDir ?? join('.koi', name));
  const configFlag = stringFlag(flags, 'config');
  const configPath = configFlag ? resolve(configFlag) : defaultConfigPath(dataDir);
  // A running node owns its directory: init must not rewrite its config or identity under it.
  const lock = await DataDirLock.acquire(dataDir);
  try {
    return await initLocked(flags.force === true, configPath, overrides, dataDir);
  } finally {
    await lock.release();
  }
}

async function initLocked(force: boolean, configPath: string, overrides: ConfigOverrides, dataDir: string): Promise<number> {
  const config = await writeConfigTemplate(configPath, { ...overrides, dataDir }, { force });
  // Signed and both: the key is the identity (the RID hashes it), so it is made now too.
  const keyPair =
    config.protocol !== 'unsigned' ? await loadOrCreateNodeKey(join(config.dataDir, 'priv_key.pem'), { passphrase: privateKeyPassword() }) : undefined;
  const identity = await NodeIdentity.load({
    name: config.name,
    profile: profileFromConfig(config),
    filePath: join(config.dataDir, 'identity.json'),
    ...(keyPair ? { keyPair } : {}),
  });
  process.stdout.write(JSON.stringify({ msg: 'node initialized', config: configPath, data_dir: config.dataDir, rid: String(identity.rid) }) + '\n');
  return 0;
}
