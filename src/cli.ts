/**
 * The `koi-net` command: `init` writes a commented config (and the node identity), `start` runs a
 * full node (HTTP server) or a partial node (poller) until SIGINT/SIGTERM, `status` reports on a
 * node directory from its files alone. Library first: every step here is public API.
 */
import { existsSync, realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  defaultConfigPath,
  effectiveProvides,
  findConfigFile,
  loadConfig,
  renderConfig,
  resolveBaseUrl,
  serverLimitsFromConfig,
  serverTimeoutsFromConfig,
  writeConfigTemplate,
  type ConfigOverrides,
  type KoiNetConfig,
} from './config/index.ts';
import { KoiNetError } from './errors.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { createLogger, silentLogger } from './logger.ts';
import { NodeInterface } from './node.ts';
import { NodeIdentity } from './identity/index.ts';
import { loadOrCreateNodeKey } from './secure/index.ts';
import { installBehaviours } from './behaviours/index.ts';
import { startFullNode } from './full-node.ts';
import { Poller } from './network/poller.ts';
import { Cache } from './cache/index.ts';
import { NetworkGraph } from './network/graph.ts';
import { NodeType, type NodeProfile } from './protocol/index.ts';
import { KoiNetNode, RID } from './rid/index.ts';
import { findFreePort } from './free-port.ts';
import { packageVersion } from './package-files.ts';
import { namedErrorText } from './util/error-text.ts';
import { EXTRA_HELP, runExtraCommand } from './cli/commands.ts';

export { findFreePort };

const HELP = `koi-net: run and inspect KOI-net nodes

Usage:
  koi-net init   [--config FILE] [--force] [node flags]   write a commented config and the node identity
  koi-net start  [--config FILE] [node flags]             run the node until SIGINT/SIGTERM
  koi-net status [--data-dir DIR | --config FILE] [--json] report on a node directory (no running node needed)
${EXTRA_HELP}  koi-net --help | --version

Node flags. Precedence: command-line flags > KOI_NET_* environment variables > config file > defaults.
  --name NAME                 node name (part of the RID made on first start)
  --type full|partial         full: HTTP server; partial: polls its neighbors
  --host HOST  --port PORT    where a full node listens (port 0: a free port)
  --base-url URL              URL peers use (default http://<host>:<port>/koi-net)
  --first-contact URL         base URL of a full node to introduce this node to
  --first-contact-rid RID     its node RID (needed with --protocol signed)
  --protocol unsigned|signed  wire format: koi-net 1.0.x (default) or 1.1+/2.x signed envelopes
                              (signed: key in <data-dir>/priv_key.pem, encrypted with
                              KOI_NET_PRIV_KEY_PASSWORD when set)
  --provides-event TYPE       RID type this node sends events about (repeatable)
  --provides-state TYPE       RID type this node serves state for (repeatable)
  --data-dir DIR              identity, cache and queues (default .koi/<name>)
  --role coordinator|none     coordinator: welcomes new nodes, provides node and edge events/state
  --no-contact / --contact    switch the contact behaviour (edge to node-event providers + catch-up)
  --contact-rid-type TYPE     extra RID type requested on contact edges (repeatable)
  --poll-interval MS          partial nodes: pause between poll rounds
  --log-level LEVEL           fatal|error|warn|info|debug|trace|silent
  --pretty                    human-readable logs instead of JSON lines
  --body-limit SIZE           largest request body (e.g. 1mb)
  --request-timeout MS        timeout of each request to another node
  --first-contact-retry-max MS  longest pause between first-contact handshake retries (default 30000)
  --max-events-per-broadcast N  most events in one broadcast request (default 1000)
  --max-rids-per-fetch N        most rids / rid_types in one fetch request (default 10000)
  --max-events-per-poll N       most events in one poll answer (default 1000)
  --server-headers-timeout MS   cut off a client whose request headers take longer (default 10000)
  --server-request-timeout MS   cut off a client whose whole request takes longer (default 30000)
  --server-keep-alive-timeout MS  close idle keep-alive connections after (default 5000)

Without --config, start and status use <data-dir>/koi-net.yaml or ./koi-net.yaml if present.
When start finds no config file, it writes the effective one to <data-dir>/koi-net.yaml, so
\`koi-net start --data-dir DIR\` alone restarts the same node.
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  name: { type: 'string' },
  type: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'base-url': { type: 'string' },
  'first-contact': { type: 'string' },
  'first-contact-rid': { type: 'string' },
  protocol: { type: 'string' },
  'provides-event': { type: 'string', multiple: true },
  'provides-state': { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  role: { type: 'string' },
  'no-contact': { type: 'boolean' },
  contact: { type: 'boolean' },
  'contact-rid-type': { type: 'string', multiple: true },
  'poll-interval': { type: 'string' },
  'log-level': { type: 'string' },
  pretty: { type: 'boolean' },
  'body-limit': { type: 'string' },
  'request-timeout': { type: 'string' },
  'first-contact-retry-max': { type: 'string' },
  'max-events-per-broadcast': { type: 'string' },
  'max-rids-per-fetch': { type: 'string' },
  'max-events-per-poll': { type: 'string' },
  'server-headers-timeout': { type: 'string' },
  'server-request-timeout': { type: 'string' },
  'server-keep-alive-timeout': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseFlags>['values'];

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** A usage mistake: printed without a stack, exit code 2. */
class UsageError extends Error {}

/** Flags as config overrides. Values are checked by the config validator, which names the field. */
export function flagsToOverrides(flags: Flags): ConfigOverrides {
  const o: ConfigOverrides = {};
  const int = (v: string, flag: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new UsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  if (flags.name !== undefined) o.name = flags.name;
  if (flags.type !== undefined) {
    const t = flags.type.toLowerCase();
    if (t !== 'full' && t !== 'partial') throw new UsageError(`--type must be full or partial, got ${JSON.stringify(flags.type)}`);
    o.type = t;
  }
  if (flags.host !== undefined) o.host = flags.host;
  if (flags.port !== undefined) o.port = int(flags.port, 'port');
  if (flags['base-url'] !== undefined) o.baseUrl = flags['base-url'];
  if (flags['first-contact'] !== undefined) o.firstContact = flags['first-contact'];
  if (flags['first-contact-rid'] !== undefined) o.firstContactRid = flags['first-contact-rid'];
  if (flags.protocol !== undefined) {
    const p = flags.protocol.toLowerCase();
    if (p !== 'unsigned' && p !== 'signed') throw new UsageError(`--protocol must be unsigned or signed, got ${JSON.stringify(flags.protocol)}`);
    o.protocol = p;
  }
  if (flags['provides-event'] || flags['provides-state']) {
    o.provides = {};
    if (flags['provides-event']) o.provides.event = splitList(flags['provides-event']);
    if (flags['provides-state']) o.provides.state = splitList(flags['provides-state']);
  }
  if (flags['data-dir'] !== undefined) o.dataDir = flags['data-dir'];
  if (flags.role !== undefined) {
    const r = flags.role.toLowerCase();
    if (r !== 'coordinator' && r !== 'none') throw new UsageError(`--role must be coordinator or none, got ${JSON.stringify(flags.role)}`);
    o.role = r;
  }
  if (flags['no-contact'] && flags.contact) throw new UsageError('--contact and --no-contact contradict each other');
  if (flags['no-contact'] || flags.contact || flags['contact-rid-type']) {
    o.contact = {};
    if (flags['no-contact']) o.contact.enabled = false;
    if (flags.contact) o.contact.enabled = true;
    if (flags['contact-rid-type']) o.contact.ridTypes = splitList(flags['contact-rid-type']);
  }
  if (flags['poll-interval'] !== undefined) o.pollIntervalMs = int(flags['poll-interval'], 'poll-interval');
  if (flags['log-level'] !== undefined || flags.pretty) {
    o.log = {};
    if (flags['log-level'] !== undefined) o.log.level = flags['log-level'].toLowerCase();
    if (flags.pretty) o.log.pretty = true;
  }
  if (flags['body-limit'] !== undefined) o.bodyLimit = flags['body-limit'];
  if (flags['request-timeout'] !== undefined) o.requestTimeoutMs = int(flags['request-timeout'], 'request-timeout');
  if (flags['first-contact-retry-max'] !== undefined) o.firstContactRetryMaxMs = int(flags['first-contact-retry-max'], 'first-contact-retry-max');
  if (flags['max-events-per-broadcast'] !== undefined) o.maxEventsPerBroadcast = int(flags['max-events-per-broadcast'], 'max-events-per-broadcast');
  if (flags['max-rids-per-fetch'] !== undefined) o.maxRidsPerFetch = int(flags['max-rids-per-fetch'], 'max-rids-per-fetch');
  if (flags['max-events-per-poll'] !== undefined) o.maxEventsPerPoll = int(flags['max-events-per-poll'], 'max-events-per-poll');
  if (flags['server-headers-timeout'] !== undefined) o.serverHeadersTimeoutMs = int(flags['server-headers-timeout'], 'server-headers-timeout');
  if (flags['server-request-timeout'] !== undefined) o.serverRequestTimeoutMs = int(flags['server-request-timeout'], 'server-request-timeout');
  if (flags['server-keep-alive-timeout'] !== undefined) o.serverKeepAliveTimeoutMs = int(flags['server-keep-alive-timeout'], 'server-keep-alive-timeout');
  return o;
}

/** `--provides-event a,b --provides-event c` = [a, b, c]. */
function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

async function resolveConfig(flags: Flags): Promise<KoiNetConfig> {
  const found = findConfigFile({ flag: flags.config, dataDir: flags['data-dir'] });
  return loadConfig(found?.path, { overrides: flagsToOverrides(flags), mustExist: found?.explicit ?? true });
}

/** The profile a config describes; `port` is the one actually bound (it matters for port 0). */
export function profileFromConfig(config: KoiNetConfig, port = config.port): NodeProfile {
  const provides = effectiveProvides(config);
  if (config.type === 'partial') {
    return { node_type: NodeType.PARTIAL, base_url: null, provides: { event: provides.event, state: [] } } as NodeProfile;
  }
  return { node_type: NodeType.FULL, base_url: resolveBaseUrl(config, port), provides } as NodeProfile;
}

// --- init ----------------------------------------------------------------------------------------

async function cmdInit(flags: Flags): Promise<number> {
  const overrides = flagsToOverrides(flags);
  const name = overrides.name ?? 'node';
  const dataDir = resolve(overrides.dataDir ?? join('.koi', name));
  const configPath = flags.config ? resolve(flags.config) : defaultConfigPath(dataDir);
  // A running node owns its directory: init must not rewrite its config or identity under it.
  const lock = await DataDirLock.acquire(dataDir);
  try {
    return await initLocked(flags, configPath, overrides, dataDir);
  } finally {
    await lock.release();
  }
}

async function initLocked(flags: Flags, configPath: string, overrides: ReturnType<typeof flagsToOverrides>, dataDir: string): Promise<number> {
  const config = await writeConfigTemplate(configPath, { ...overrides, dataDir }, { force: flags.force });
  // Making the identity now lets the operator hand the RID to peers before the first start.
  // Signed: the key is the identity (the RID hashes it), so it is made now too.
  const keyPair =
    config.protocol === 'signed'
      ? await loadOrCreateNodeKey(join(config.dataDir, 'priv_key.pem'), { passphrase: process.env.KOI_NET_PRIV_KEY_PASSWORD || undefined })
      : undefined;
  const identity = await NodeIdentity.load({
    name: config.name,
    profile: profileFromConfig(config),
    filePath: join(config.dataDir, 'identity.json'),
    ...(keyPair ? { keyPair } : {}),
  });
  process.stdout.write(JSON.stringify({ msg: 'node initialized', config: configPath, data_dir: config.dataDir, rid: String(identity.rid) }) + '\n');
  return 0;
}

// --- start ---------------------------------------------------------------------------------------

async function cmdStart(flags: Flags): Promise<number> {
  const found = findConfigFile({ flag: flags.config, dataDir: flags['data-dir'] });
  const config = await loadConfig(found?.path, { overrides: flagsToOverrides(flags), mustExist: found?.explicit ?? true });
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: config.name });

  // With port 0 the profile needs the real port before the node exists, so take a free one first.
  let port = config.port;
  if (config.type === 'full' && port === 0 && !config.baseUrl) port = await findFreePort(config.host);

  const node = new NodeInterface({
    name: config.name,
    profile: profileFromConfig(config, port),
    dataDir: config.dataDir,
    firstContact: config.firstContact ?? undefined,
    ...(config.firstContactRid ? { firstContactRid: config.firstContactRid } : {}),
    protocol: config.protocol,
    ...(config.profileContext === null ? {} : { profileContext: config.profileContext }),
    // Read from the environment only, so it never lands in a config file or a log line.
    ...(config.protocol === 'signed' && process.env.KOI_NET_PRIV_KEY_PASSWORD ? { privateKeyPassword: process.env.KOI_NET_PRIV_KEY_PASSWORD } : {}),
    requestTimeoutMs: config.requestTimeoutMs,
    firstContactRetry: { maxDelayMs: config.firstContactRetryMaxMs },
    logger,
  });
  installBehaviours(node, {
    coordinator: config.role === 'coordinator',
    contact: config.contact.enabled ? { extraRidTypes: config.contact.ridTypes } : false,
  });

  let stopRunning: () => Promise<void>;
  let url: string | undefined;
  if (config.type === 'full') {
    const running = await startFullNode(node, { host: config.host, port, bodyLimit: config.bodyLimit, limits: serverLimitsFromConfig(config), timeouts: serverTimeoutsFromConfig(config), logger: logger.child({ component: 'server' }) });
    url = running.url;
    port = running.port;
    stopRunning = () => running.close();
  } else {
    await node.initialize();
    const poller = new Poller({ node, intervalMs: config.pollIntervalMs, logger: logger.child({ component: 'poller' }) });
    poller.start();
    stopRunning = () => poller.stop();
  }
  // Written only once the node runs, so a start that fails leaves no config behind.
  const written = found === undefined ? await writeEffectiveConfig(config, port) : undefined;
  if (written) logger.info({ config: written }, 'wrote the effective config; `koi-net start --data-dir DIR` alone restarts this node');
  logger.info({ rid: String(node.identity.rid), nodeType: node.identity.profile.node_type, ...(url ? { url } : {}), dataDir: config.dataDir }, 'node started');

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal means "now": skip the graceful path.
        logger.warn({ signal }, 'second signal; exiting without finishing shutdown');
        resolveExit(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void (async () => {
        try {
          await stopRunning();
          await node.finalize();
          logger.info({}, 'node stopped');
          resolveExit(0);
        } catch (err) {
          logger.error({ err: namedErrorText(err) }, 'shutdown failed');
          resolveExit(1);
        }
      })();
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}

/**
 * A node started from flags alone (no config file) records its effective settings in its data
 * directory, so a restart with `--data-dir` alone is the same node. Port 0 is written as the port
 * that was bound: peers keep this node's URL. An existing file is never overwritten.
 */
async function writeEffectiveConfig(config: KoiNetConfig, port: number): Promise<string | undefined> {
  const path = defaultConfigPath(config.dataDir);
  try {
    await writeFile(path, renderConfig({ ...config, port }, config.dataDir), { flag: 'wx' });
    return path;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
}

// --- status --------------------------------------------------------------------------------------

export interface NodeStatus {
  data_dir: string;
  identity: { rid: string; profile: NodeProfile } | null;
  neighbors: { rid: string; node_type: string | null; base_url: string | null }[];
  edges: { rid: string; source: string; target: string; edge_type: string; status: string; rid_types: string[] }[];
  queues: { webhook: Record<string, number>; poll: Record<string, number>; webhook_inflight: Record<string, number> };
  cache: { total: number; by_type: Record<string, number> };
}

/** Reads a node directory without changing it (no lock, no writes). */
export async function readNodeStatus(dataDir: string): Promise<NodeStatus> {
  const dir = resolve(dataDir);
  if (!existsSync(dir)) throw new UsageError(`no node directory at ${dir}`);
  const status: NodeStatus = {
    data_dir: dir,
    identity: null,
    neighbors: [],
    edges: [],
    queues: { webhook: {}, poll: {}, webhook_inflight: {} },
    cache: { total: 0, by_type: {} },
  };
  const idText = await readOptional(join(dir, 'identity.json'));
  if (idText !== undefined) {
    const parsed = JSON.parse(idText) as { rid: string; profile: NodeProfile };
    status.identity = { rid: String(parsed.rid), profile: parsed.profile };
  }

  const cacheDir = join(dir, 'cache');
  // Cache.open creates a missing directory; a status report must not.
  if (existsSync(cacheDir)) {
    const cache = await Cache.open(cacheDir, { logger: silentLogger });
    status.cache.total = cache.size;
    for (const rid of cache.listRids()) {
      const t = rid.type.toString();
      status.cache.by_type[t] = (status.cache.by_type[t] ?? 0) + 1;
    }
    if (status.identity) {
      const me = RID.fromString(status.identity.rid);
      if (me instanceof KoiNetNode) {
        const graph = new NetworkGraph(cache, me, { logger: silentLogger });
        await graph.generate();
        for (const n of graph.getNeighbors()) {
          const p = graph.getNodeProfile(n);
          status.neighbors.push({ rid: String(n), node_type: p?.node_type ?? null, base_url: p?.base_url ?? null });
        }
        for (const e of graph.getEdges()) {
          const p = graph.getEdgeProfile({ rid: e });
          if (p) status.edges.push({ rid: String(e), source: p.source, target: p.target, edge_type: p.edge_type, status: p.status, rid_types: p.rid_types.map(String) });
        }
      }
    }
  }

  const qText = await readOptional(join(dir, 'event_queues.json'));
  if (qText !== undefined) {
    const q = JSON.parse(qText) as Partial<Record<'webhook' | 'poll' | 'webhook_inflight', Record<string, unknown[]>>>;
    const depths = (m: Record<string, unknown[]> | undefined): Record<string, number> =>
      Object.fromEntries(Object.entries(m ?? {}).filter(([, v]) => Array.isArray(v) && v.length > 0).map(([k, v]) => [k, v.length]));
    status.queues = { webhook: depths(q.webhook), poll: depths(q.poll), webhook_inflight: depths(q.webhook_inflight) };
  }
  return status;
}

function formatStatus(s: NodeStatus): string {
  const lines: string[] = [];
  lines.push(`data dir:  ${s.data_dir}`);
  if (s.identity) {
    lines.push(`node:      ${s.identity.rid}`);
    lines.push(`type:      ${s.identity.profile.node_type}${s.identity.profile.base_url ? `  ${s.identity.profile.base_url}` : ''}`);
    lines.push(`provides:  event [${s.identity.profile.provides.event.join(', ')}]  state [${(s.identity.profile.provides.state ?? []).join(', ')}]`);
  } else {
    lines.push('node:      (no identity yet: the node has never started)');
  }
  lines.push(`neighbors: ${s.neighbors.length}`);
  for (const n of s.neighbors) lines.push(`  ${n.rid}  ${n.node_type ?? '?'}${n.base_url ? `  ${n.base_url}` : ''}`);
  lines.push(`edges:     ${s.edges.length}`);
  for (const e of s.edges) lines.push(`  ${e.source} -> ${e.target}  ${e.edge_type} ${e.status}  [${e.rid_types.join(', ')}]`);
  const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);
  lines.push(`queues:    webhook ${sum(s.queues.webhook)} (in flight ${sum(s.queues.webhook_inflight)}), poll ${sum(s.queues.poll)}`);
  for (const [k, v] of Object.entries(s.queues.webhook)) lines.push(`  webhook ${k}: ${v}`);
  for (const [k, v] of Object.entries(s.queues.poll)) lines.push(`  poll    ${k}: ${v}`);
  lines.push(`cache:     ${s.cache.total} bundle(s)`);
  for (const [t, n] of Object.entries(s.cache.by_type).sort()) lines.push(`  ${t}: ${n}`);
  return lines.join('\n') + '\n';
}

async function cmdStatus(flags: Flags): Promise<number> {
  let dataDir = flags['data-dir'];
  if (dataDir === undefined) dataDir = (await resolveConfig(flags)).dataDir;
  const status = await readNodeStatus(dataDir);
  process.stdout.write(flags.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status));
  return 0;
}

// --- entry ---------------------------------------------------------------------------------------

/** Runs the command line; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const extra = runExtraCommand(argv); // issue 13: migrate and the operator shell (src/cli/)
  if (extra) return extra;
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (err) {
    // Node's parse errors run on with advice about `--`; the first sentence is the useful part.
    const first = (err as Error).message.split(/(?<=\.) /)[0]!.replace(/\.$/, '');
    process.stderr.write(`koi-net: ${first}. See koi-net --help.\n`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const command = positionals[0];
  if (flags.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (flags.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined && !flags.help ? 2 : 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`koi-net: unexpected argument ${JSON.stringify(positionals[1])}. See koi-net --help.\n`);
    return 2;
  }
  try {
    switch (command) {
      case 'init':
        return await cmdInit(flags);
      case 'start':
        return await cmdStart(flags);
      case 'status':
        return await cmdStatus(flags);
      default:
        process.stderr.write(`koi-net: unknown command ${JSON.stringify(command)}. See koi-net --help.\n`);
        return 2;
    }
  } catch (err) {
    // One line an operator can act on; the stack only when asked for with --log-level debug|trace.
    const usage = err instanceof UsageError || err instanceof ConfigError;
    process.stderr.write(`koi-net: ${failureText(err)}${usage ? '. See koi-net --help.' : ''}\n`);
    if (!usage && err instanceof Error && err.stack && /^(debug|trace)$/i.test(flags['log-level'] ?? '')) process.stderr.write(`${err.stack}\n`);
    return usage ? 2 : 1;
  }
}

/** Operating-system errors of a start, said in words; the rest is the error's own message. */
function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err instanceof KoiNetError) return err.message.replace(/\s+/g, ' ');
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e.address === undefined ? undefined : e.port ? `${e.address}:${e.port}` : e.address;
  switch (e.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where ?? 'the port'}: the address is already in use (choose another --port, or --port 0 for a free one)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where ?? 'that address'}: no such address on this machine (check --host)`;
    case 'EACCES':
      return where ? `cannot listen on ${where}: permission denied (ports below 1024 need privileges)` : `permission denied: ${e.message}`;
    default:
      return e.message.split('\n')[0] ?? e.message;
  }
}


async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Run when this file is executed (`node --import tsx src/cli.ts`, `node dist/src/cli.js`), not when
 * imported (tests, bin/koi-net.js, which calls runCli itself).
 */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await runCli(process.argv.slice(2));
  // Keep-alive sockets of the HTTP client and pino's worker would otherwise hold the process open.
  process.exit(code);
}

