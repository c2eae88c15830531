/**
 * `koi-net migrate --from PY_NODE_DIR --data-dir NEW_DIR`: turns the directory of a Python
 * koi-net node (1.0.0b6, 1.0.x or 2.x) into a data directory with which `koi-net start --data-dir
 * NEW_DIR` is the same node: same RID, same key, same cached bundles (copied byte for byte, so
 * hashes and edges are unchanged), same protocol, and neighbours already in the graph, so no new
 * handshake is made. The Python directory is only ever read. Everything is written into a temporary
 * directory beside the target and renamed into place at the end, so a refusal writes nothing.
 */
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { defaultConfig, renderConfig, validateConfig, type KoiNetConfig } from '../config/index.ts';
import { Bundle, Event } from '../knowledge/index.ts';
import { NodeType, parseNodeProfile, type NodeProfile } from '../protocol/index.ts';
import { KoiNetNode, RID } from '../rid/index.ts';
import { NodeKeyPair } from '../secure/index.ts';
import { cacheFileName } from '../cache/file-name.ts';
import { errorText } from '../util/error-text.ts';
import { MIGRATE_HELP } from './help.ts';
import { MigrationError, exists, writeNewDataDir, writeQueuedEvents } from './migration-files.ts';

/** Which Python release wrote the directory (decides the file layout and the wire format). */
export type PythonNodeVersion = '1.0.0b6' | '1.0.x' | '2.x';

/** Why a migration was refused; nothing was written. */
export { MigrationError };

/** What was read from a Python node directory. */
export interface PythonNode {
  version: PythonNodeVersion;
  dir: string;
  rid: KoiNetNode;
  profile: NodeProfile;
  /** The file the RID came from (identity JSON or YAML config). */
  identityFile: string;
  cacheDir: string | undefined;
  /** 1.0.x / b6 only: `{webhook: {rid: [Event]}, poll: {...}}`, written at shutdown when non-empty. */
  queueFile: string | undefined;
  /** 2.x: the decrypted key, checked against the RID. */
  keyPair: NodeKeyPair | undefined;
  /** 2.x: the password the PEM was opened with (kept unless KOI_NET_PRIV_KEY_PASSWORD says otherwise). */
  password: string | undefined;
  server: { host: string; port: number } | undefined;
  firstContact: { url: string | null; rid: string | null };
  /** 2.x: `koi_net.rid_types_of_interest` (what it subscribes to and catches up on at start). */
  ridTypesOfInterest?: string[];
}

export interface MigrateOptions {
  from: string;
  dataDir: string;
  /** Default process.env: PRIV_KEY_PASSWORD (the Python node's), KOI_NET_PRIV_KEY_PASSWORD (ours). */
  env?: Record<string, string | undefined>;
}

export interface MigrationReport {
  version: PythonNodeVersion;
  rid: string;
  protocol: 'unsigned' | 'signed' | 'both';
  data_dir: string;
  bundles: number;
  queued_events: number;
  role: 'coordinator' | 'none';
}

const NODE_TYPE = 'orn:koi-net.node';
const EDGE_TYPE = 'orn:koi-net.edge';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new MigrationError(`cannot read ${path}: ${errorText(err)}`);
  }
}

function nodeRid(value: unknown, where: string): KoiNetNode {
  try {
    const rid = RID.fromString(String(value).trim());
    if (rid instanceof KoiNetNode) return rid;
  } catch {
    // reported below
  }
  throw new MigrationError(`${where} holds ${JSON.stringify(value)}, not an orn:koi-net.node RID`);
}

function profileOf(value: unknown, where: string): NodeProfile {
  try {
    return parseNodeProfile(value);
  } catch (err) {
    throw new MigrationError(`${where}: not a node profile (${errorText(err)})`);
  }
}

/** `PRIV_KEY_PASSWORD` from the environment, else from the node directory's `.env` (as python-dotenv reads it). */
async function pythonPassword(dir: string, env: Record<string, string | undefined>): Promise<string | undefined> {
  if (env.PRIV_KEY_PASSWORD) return env.PRIV_KEY_PASSWORD;
  const envFile = join(dir, '.env');
  if (!(await exists(envFile))) return undefined;
  for (const line of (await readText(envFile)).split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?PRIV_KEY_PASSWORD\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const raw = m[1]!;
    const quoted = /^(['"])(.*)\1$/.exec(raw);
    return quoted ? quoted[2] : raw.replace(/\s+#.*$/, '');
  }
  return undefined;
}

/** YAML files at the top of `dir` whose `koi_net` section names a node RID (1.0.x and 2.x configs). */
async function findYamlConfigs(dir: string, names: string[]): Promise<{ path: string; doc: Obj }[]> {
  const found: { path: string; doc: Obj }[] = [];
  for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const path = join(dir, name);
    let doc: unknown;
    try {
      doc = parseYaml(await readText(path));
    } catch (err) {
      if (err instanceof MigrationError) throw err;
      continue; // not YAML: not a node config
    }
    if (isObj(doc) && isObj(doc.koi_net) && doc.koi_net.node_rid !== undefined && doc.koi_net.node_rid !== null) found.push({ path, doc });
  }
  return found;
}

/** Reads a Python node directory (never writes to it). Throws MigrationError when it is not one. */
export async function readPythonNode(fromDir: string, env: Record<string, string | undefined> = process.env): Promise<PythonNode> {
  const dir = resolve(fromDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new MigrationError(`cannot read the Python node directory ${dir}: ${errorText(err)}`);
  }
  const configs = await findYamlConfigs(dir, names);
  if (configs.length > 1) throw new MigrationError(`${dir} holds several node configs (${configs.map((c) => basename(c.path)).join(', ')}); copy one node's files into a directory of its own`);
  if (configs.length === 1) return readYamlNode(dir, configs[0]!, env);

  const identities = names.filter((n) => /identity\.json$/.test(n)).sort();
  if (identities.length > 1) throw new MigrationError(`${dir} holds several identity files (${identities.join(', ')}); copy one node's files into a directory of its own`);
  if (identities.length === 1) return readB6Node(dir, join(dir, identities[0]!));
  throw new MigrationError(
    `${dir} is not a Python koi-net node directory: no YAML config with koi_net.node_rid (1.0.x, 2.x) and no *identity.json (1.0.0b6)`,
  );
}

async function readB6Node(dir: string, identityFile: string): Promise<PythonNode> {
  let data: unknown;
  try {
    data = JSON.parse(await readText(identityFile));
  } catch (err) {
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(`${identityFile} is not JSON`);
  }
  if (!isObj(data)) throw new MigrationError(`${identityFile} is not an identity file ({"rid", "profile"})`);
  const rid = nodeRid(data.rid, identityFile);
  const profile = profileOf(data.profile, `${identityFile} profile`);
  const cacheDir = join(dir, '.cache');
  const queueFile = join(dir, 'event_queues.json');
  return {
    version: '1.0.0b6',
    dir,
    rid,
    profile,
    identityFile,
    cacheDir: (await exists(cacheDir)) ? cacheDir : undefined,
    queueFile: (await exists(queueFile)) ? queueFile : undefined,
    keyPair: undefined,
    password: undefined,
    server: serverFromBaseUrl(profile.base_url ?? null),
    firstContact: { url: null, rid: null },
  };
}

async function readYamlNode(dir: string, config: { path: string; doc: Obj }, env: Record<string, string | undefined>): Promise<PythonNode> {
  const k = config.doc.koi_net as Obj;
  const rid = nodeRid(k.node_rid, `${config.path} koi_net.node_rid`);
  const profile = profileOf(k.node_profile, `${config.path} koi_net.node_profile`);
  const signed = k.private_key_pem_path !== undefined || typeof profile.public_key === 'string';
  const rel = (v: unknown, fallback: string): string => join(dir, typeof v === 'string' && v ? v : fallback);
  const cacheDir = rel(k.cache_directory_path, signed ? '.rid_cache' : '.rid_cache');
  const server = isObj(config.doc.server) ? config.doc.server : {};
  const serverAt =
    typeof server.host === 'string' && Number.isInteger(server.port) ? { host: server.host, port: server.port as number } : serverFromBaseUrl(profile.base_url ?? null);
  const fc = k.first_contact;
  const firstContact = isObj(fc)
    ? { url: typeof fc.url === 'string' && fc.url ? fc.url : null, rid: typeof fc.rid === 'string' && fc.rid ? fc.rid : null }
    : { url: typeof fc === 'string' && fc ? fc : null, rid: null };

  let keyPair: NodeKeyPair | undefined;
  let password: string | undefined;
  let queueFile: string | undefined;
  if (signed) {
    const pemPath = rel(k.private_key_pem_path, 'priv_key.pem');
    const pem = await readText(pemPath);
    password = await pythonPassword(dir, env);
    try {
      keyPair = NodeKeyPair.fromPkcs8Pem(pem, password);
    } catch {
      throw new MigrationError(
        password === undefined
          ? `${pemPath} is encrypted: set PRIV_KEY_PASSWORD (the Python node's password) or put it in ${join(dir, '.env')}`
          : `${pemPath} does not open with the given PRIV_KEY_PASSWORD (wrong password?)`,
      );
    }
    const keyRid = keyPair.nodeRid(rid.name);
    if (keyRid.toString() !== rid.toString()) throw new MigrationError(`the key in ${pemPath} belongs to ${keyRid.toString()}, not to ${rid.toString()}`);
    if (profile.public_key && profile.public_key !== keyPair.publicKeyDerB64) throw new MigrationError(`node_profile.public_key in ${config.path} is not the key in ${pemPath}`);
  } else {
    // 1.0.x: written by node.stop() only when a queue was non-empty; 2.x keeps its queues in memory.
    const q = rel(k.event_queues_path, 'event_queues.json');
    queueFile = (await exists(q)) ? q : undefined;
  }
  // 2.x only (1.0.x has no such field); absent from the file, 2.x means its default: node RIDs.
  const interest = Array.isArray(k.rid_types_of_interest) ? k.rid_types_of_interest.map(String) : [NODE_TYPE];
  return {
    ...(signed ? { ridTypesOfInterest: interest } : {}),
    version: signed ? '2.x' : '1.0.x',
    dir,
    rid,
    profile,
    identityFile: config.path,
    cacheDir: (await exists(cacheDir)) ? cacheDir : undefined,
    queueFile,
    keyPair,
    password,
    server: serverAt,
    firstContact,
  };
}

function serverFromBaseUrl(baseUrl: string | null): { host: string; port: number } | undefined {
  if (!baseUrl) return undefined;
  try {
    const u = new URL(baseUrl);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

/** Every cache file as a checked bundle, keyed by its file name (kept as is). */
async function readCache(cacheDir: string | undefined): Promise<{ name: string; text: string; bundle: Bundle }[]> {
  if (!cacheDir) return [];
  const out: { name: string; text: string; bundle: Bundle }[] = [];
  for (const name of (await readdir(cacheDir)).sort()) {
    if (!name.endsWith('.json')) continue;
    const path = join(cacheDir, name);
    const text = await readText(path);
    let bundle: Bundle;
    try {
      bundle = Bundle.fromJSON(JSON.parse(text));
    } catch (err) {
      throw new MigrationError(`cache file ${path} is not a bundle: ${errorText(err)}`);
    }
    if (cacheFileName(bundle.rid) !== name) throw new MigrationError(`cache file ${path} holds ${bundle.rid.toString()}, whose file name would be ${cacheFileName(bundle.rid)}`);
    out.push({ name, text, bundle });
  }
  return out;
}

async function readQueues(queueFile: string | undefined): Promise<{ kind: 'webhook' | 'poll'; node: string; event: Event }[]> {
  if (!queueFile) return [];
  let data: unknown;
  try {
    data = JSON.parse(await readText(queueFile));
  } catch (err) {
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(`event queue file ${queueFile} is not JSON`);
  }
  if (!isObj(data)) throw new MigrationError(`event queue file ${queueFile} is not {"webhook": ..., "poll": ...}`);
  const out: { kind: 'webhook' | 'poll'; node: string; event: Event }[] = [];
  for (const kind of ['webhook', 'poll'] as const) {
    const byNode = data[kind] ?? {};
    if (!isObj(byNode)) throw new MigrationError(`${queueFile}: "${kind}" is not an object`);
    for (const [node, events] of Object.entries(byNode)) {
      nodeRid(node, `${queueFile} ${kind} queue`);
      if (!Array.isArray(events)) throw new MigrationError(`${queueFile}: ${kind} queue of ${node} is not a list`);
      for (const e of events) {
        try {
          out.push({ kind, node, event: Event.fromJSON(e) });
        } catch (err) {
          throw new MigrationError(`${queueFile}: an event in the ${kind} queue of ${node} is invalid: ${errorText(err)}`);
        }
      }
    }
  }
  return out;
}

/** The config of the migrated node; the RID, key and cache carry the identity, this carries the rest. */
function configFor(node: PythonNode, dataDir: string, cache: { bundle: Bundle }[]): KoiNetConfig {
  const p = node.profile;
  const full = p.node_type === NodeType.FULL;
  const events = p.provides.event.map(String);
  const own = cache.find((c) => c.bundle.rid.toString() === node.rid.toString());
  const config: KoiNetConfig = {
    ...defaultConfig(),
    name: node.rid.name,
    type: full ? 'full' : 'partial',
    host: node.server?.host ?? '127.0.0.1',
    port: node.server?.port ?? 8000,
    // The URL peers hold for this node: kept exactly, whatever port the new process listens on.
    baseUrl: full ? (p.base_url ?? null) : null,
    firstContact: node.firstContact.url,
    firstContactRid: node.firstContact.rid,
    protocol: node.keyPair ? 'signed' : 'unsigned',
    // 2.x: the profile keeps the shape it had (2.1 wrote @context, 2.0 did not), so its hash stays.
    profileContext: node.keyPair ? own !== undefined && Object.hasOwn(own.bundle.contents, '@context') : null,
    provides: { event: events, state: full ? p.provides.state.map(String) : [] },
    dataDir,
    // The Python coordinator is the node that offers node and edge events to everyone.
    role: full && events.includes(NODE_TYPE) && events.includes(EDGE_TYPE) ? 'coordinator' : 'none',
    // 2.x subscribes to (and catches up on) its rid_types_of_interest; node and edge types are on
    // every contact edge here already, the others are asked for as extra types.
    ...(node.ridTypesOfInterest
      ? {
          catchUpRidTypes: node.ridTypesOfInterest,
          contact: { enabled: true, ridTypes: node.ridTypesOfInterest.filter((t) => t !== NODE_TYPE && t !== EDGE_TYPE) },
        }
      : {}),
  };
  validateConfig(config, `migrated from ${node.identityFile}`);
  return config;
}

/** Migrates; on any refusal nothing exists at `dataDir` afterwards and the Python directory is untouched. */
export async function migratePythonNode(options: MigrateOptions): Promise<MigrationReport> {
  const env = options.env ?? process.env;
  const target = resolve(options.dataDir);
  if (await exists(target)) throw new MigrationError(`${target} already exists; migrate into a new directory`);
  const node = await readPythonNode(options.from, env);
  const cache = await readCache(node.cacheDir);
  const queued = await readQueues(node.queueFile);
  const config = configFor(node, target, cache);

  await writeNewDataDir(target, async (tmp) => {
    await writeFile(join(tmp, 'koi-net.yaml'), renderConfig(config, target));
    await writeFile(join(tmp, 'identity.json'), JSON.stringify({ rid: node.rid.toString(), profile: node.profile }, null, 2) + '\n');
    if (node.keyPair) {
      // Ours reads KOI_NET_PRIV_KEY_PASSWORD; without one the Python password stays the password.
      const pass = env.KOI_NET_PRIV_KEY_PASSWORD || node.password;
      await writeFile(join(tmp, 'priv_key.pem'), node.keyPair.exportPkcs8Pem(pass), { mode: 0o600 });
      await chmod(join(tmp, 'priv_key.pem'), 0o600);
    }
    await mkdir(join(tmp, 'cache'));
    // Byte for byte: the manifests (and b6's pre-JCS hashes) stay exactly what peers hold.
    for (const c of cache) await writeFile(join(tmp, 'cache', c.name), c.text);
    await writeQueuedEvents(tmp, queued);
  });
  return {
    version: node.version,
    rid: node.rid.toString(),
    protocol: config.protocol,
    data_dir: target,
    bundles: cache.length,
    queued_events: queued.length,
    role: config.role,
  };
}


type MigrateFlags = {
  from?: string | undefined;
  'data-dir'?: string | undefined;
  store?: string | undefined;
  'from-store'?: string | undefined;
  config?: string | undefined;
  json?: boolean | undefined;
  help?: boolean | undefined;
};

/** `koi-net migrate ...`; resolves to the exit code. */
export async function runMigrate(argv: string[]): Promise<number> {
  let values: MigrateFlags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        'data-dir': { type: 'string' },
        store: { type: 'string' },
        'from-store': { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`koi-net migrate: ${errorText(err).split(/(?<=\.) /)[0]}\n${MIGRATE_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(MIGRATE_HELP);
    return 0;
  }
  if (values.store !== undefined || values['from-store'] !== undefined) return runStoreMigrate(values);
  if (!values.from || !values['data-dir']) {
    process.stderr.write(`koi-net migrate: --from and --data-dir are both required\n${MIGRATE_HELP}`);
    return 2;
  }
  try {
    const report = await migratePythonNode({ from: values.from, dataDir: values['data-dir'] });
    process.stdout.write(
      values.json
        ? JSON.stringify({ msg: 'node migrated', ...report }) + '\n'
        : `migrated koi-net ${report.version} node ${report.rid}\n  into ${report.data_dir} (${report.protocol}, role ${report.role}, ${report.bundles} cached bundle(s), ${report.queued_events} queued event(s))\n  start it with: koi-net start --data-dir ${report.data_dir}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`koi-net migrate: refused, nothing written: ${errorText(err)}\n`);
    return 1;
  }
}

/** Between files and PostgreSQL (the driver is loaded only here). */
async function runStoreMigrate(values: MigrateFlags): Promise<number> {
  const toStore = values.store !== undefined;
  if (toStore && values['from-store'] !== undefined) {
    process.stderr.write(`koi-net migrate: --store (onto PostgreSQL) and --from-store (back to files) exclude each other\n${MIGRATE_HELP}`);
    return 2;
  }
  if (toStore ? !values.from || values.config !== undefined : !values['data-dir'] || values.from !== undefined) {
    process.stderr.write(
      `koi-net migrate: ${toStore ? '--store needs --from DATA_DIR (and takes no --config)' : '--from-store needs --data-dir NEW_DIR (and takes no --from)'}\n${MIGRATE_HELP}`,
    );
    return 2;
  }
  const url = (toStore ? values.store : values['from-store'])!;
  const { checkPostgresUrl } = await import('../postgres/url.ts');
  const problem = checkPostgresUrl(url);
  if (problem) {
    process.stderr.write(`koi-net migrate: the store ${problem}\n`);
    return 2;
  }
  try {
    const m = await import('./migrate-store.ts');
    const report = toStore
      ? await m.migrateDataDirToStore({ from: values.from!, store: url, ...(values['data-dir'] ? { configDir: values['data-dir'] } : {}) })
      : await m.migrateStoreToDataDir({ store: url, dataDir: values['data-dir']!, ...(values.config ? { config: values.config } : {}) });
    process.stdout.write(
      values.json
        ? JSON.stringify({ msg: 'node migrated', ...report }) + '\n'
        : `migrated node ${report.rid} (${report.protocol})\n  from ${report.from}\n  to   ${report.to}\n  ${report.bundles} bundle(s) (${report.edges} edge(s)), ${report.queued_events} queued event(s), config: ${report.config ?? 'none (the node had no koi-net.yaml)'}\n  start it with: ${report.start}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`koi-net migrate: refused, nothing written: ${errorText(err)}\n`);
    return 1;
  }
}
