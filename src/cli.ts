/**
 * The `koi-net` command: `init` writes a commented config (and the node identity), `start` runs a
 * full node (HTTP server) or a partial node (poller) until SIGINT/SIGTERM, `status` reports on a
 * node directory from its files alone. Library first: every step here is public API. This file
 * dispatches and composes the running node; the other commands live in src/cli/.
 */
import { realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defaultConfigPath,
  findConfigFile,
  flagsToOverrides,
  loadConfig,
  privateKeyPassword,
  profileFromConfig,
  renderConfig,
  serverLimitsFromConfig,
  serverTimeoutsFromConfig,
  type KoiNetConfig,
} from './config/index.ts';
import { createLogger } from './logger.ts';
import { NodeInterface } from './node.ts';
import { redactUrl } from './postgres/url.ts';
import { installBehaviours } from './behaviours/index.ts';
import { startFullNode } from './full-node.ts';
import { Poller } from './poller.ts';
import { findFreePort } from './free-port.ts';
import { packageVersion } from './package-files.ts';
import { namedErrorText } from './util/error-text.ts';
import { parseFlags, stringFlag, type Flags } from './cli/args.ts';
import { failureText, isUsageError } from './cli/errors.ts';
import { helpText } from './cli/help.ts';
import { collectStartupGarbageSoon } from './cli/heap.ts';
import { cmdInit } from './cli/init.ts';
import { formatStatus, readNodeStatus, readStoreStatus } from './cli/status.ts';
import { runExtraCommand } from './cli/commands.ts';
import { checkWorkers, clusterPort, isClusterWorker, superviseWorkers } from './cli/workers.ts';

export { findFreePort, flagsToOverrides, profileFromConfig, readNodeStatus };
export type { NodeStatus } from './cli/status.ts';

/** The config `start` and `status` use: the named file, else one found by the data dir, plus env and flags. */
async function resolveConfig(flags: Flags): Promise<{ config: KoiNetConfig; found: ReturnType<typeof findConfigFile> }> {
  const found = findConfigFile({ flag: stringFlag(flags, 'config'), dataDir: stringFlag(flags, 'data-dir') });
  const config = await loadConfig(found?.path, { overrides: flagsToOverrides(flags), mustExist: found?.explicit ?? true });
  return { config, found };
}

// --- start ---------------------------------------------------------------------------------------

/** Below this many cached bundles, start-up makes too little garbage to be worth a collection. */
const STARTUP_GC_MIN_BUNDLES = 10_000;

async function cmdStart(flags: Flags): Promise<number> {
  const { config, found } = await resolveConfig(flags);
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: config.name });

  checkWorkers(config);
  // With port 0 the profile needs the real port before the node exists, so take a free one first
  // (a worker takes the one its supervisor chose, so that all serve one port).
  let port = clusterPort() ?? config.port;
  if (config.type === 'full' && port === 0 && (!config.baseUrl || config.workers > 1)) port = await findFreePort(config.host);
  if (config.workers > 1 && !isClusterWorker()) {
    // An unreachable database or a newer schema ends the start here, once, instead of in every
    // worker the supervisor would keep forking; the schema is migrated once, before they start.
    const { PgDatabase } = await import('./postgres/index.ts');
    await (await PgDatabase.open(config.store!, { logger: logger.child({ component: 'store' }) })).close();
    const url = config.baseUrl ?? `http://${config.host}:${port}/koi-net`;
    return superviseWorkers({ count: config.workers, port, url, logger: logger.child({ component: 'supervisor' }) });
  }

  // An unreachable database ends the start here, with one line (runCli prints it) and exit 1.
  // The driver is loaded only by a node that uses it.
  const store = config.store ? await (await import('./postgres/index.ts')).openPostgresStore(config.store, { logger: logger.child({ component: 'store' }) }) : undefined;
  const node = new NodeInterface({
    name: config.name,
    ...(store ? { store } : {}),
    profile: profileFromConfig(config, port),
    dataDir: config.dataDir,
    // The database holds everything, and several processes may serve the node from it.
    ...(store ? { lockDataDir: false } : {}),
    firstContact: config.firstContact ?? undefined,
    ...(config.firstContactRid ? { firstContactRid: config.firstContactRid } : {}),
    protocol: config.protocol,
    ...(config.profileContext === null ? {} : { profileContext: config.profileContext }),
    // Read from the environment only, so it never lands in a config file or a log line.
    ...(config.protocol !== 'unsigned' && privateKeyPassword() ? { privateKeyPassword: privateKeyPassword()! } : {}),
    requestTimeoutMs: config.requestTimeoutMs,
    firstContactRetry: { maxDelayMs: config.firstContactRetryMaxMs },
    catchUp: config.catchUp ? { ridTypes: config.catchUpRidTypes } : false,
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
  logger.info({ rid: String(node.identity.rid), nodeType: node.identity.profile.node_type, ...(url ? { url } : {}), dataDir: config.dataDir, ...(config.store ? { store: redactUrl(config.store) } : {}) }, 'node started');
  // A large cache's start-up garbage, collected once the node is up (see cli/heap.ts).
  if (node.cache.size >= STARTUP_GC_MIN_BUNDLES) void Promise.resolve(node.cache.verified?.()).then(() => collectStartupGarbageSoon());

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
          await store?.close();
          logger.info({}, 'node stopped');
          resolveExit(0);
        } catch (err) {
          logger.error({ err: namedErrorText(err) }, 'shutdown failed');
          resolveExit(1);
        }
      })();
    };
    // A worker stops when its supervisor says so (SIGTERM); the terminal's Ctrl-C reaches the
    // whole process group, and the supervisor forwards it once.
    process.on('SIGINT', isClusterWorker() ? () => undefined : shutdown);
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
    // With a PostgreSQL store nothing else makes the directory.
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(path, renderConfig({ ...config, port }, config.dataDir), { flag: 'wx' });
    return path;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
}

// --- status ---------------------------------------------------------------------------------------

async function cmdStatus(flags: Flags): Promise<number> {
  const dataDirFlag = stringFlag(flags, 'data-dir');
  const { config, found } = await resolveConfig(flags);
  const dataDir = dataDirFlag ?? config.dataDir;
  // A config found in the working directory describes another node than the named data dir.
  const foreign = dataDirFlag !== undefined && found !== undefined && !found.explicit && found.path !== defaultConfigPath(dataDirFlag);
  const store = foreign ? (stringFlag(flags, 'store') ?? process.env.KOI_NET_STORE ?? null) : config.store;
  const status = store ? await readStoreStatus(store, dataDir) : await readNodeStatus(dataDir);
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
  const { flags, positionals } = parsed;
  const command = positionals[0];
  if (flags.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (flags.help || command === undefined || command === 'help') {
    process.stdout.write(helpText());
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
    const usage = isUsageError(err);
    process.stderr.write(`koi-net: ${failureText(err)}${usage ? '. See koi-net --help.' : ''}\n`);
    if (!usage && err instanceof Error && err.stack && /^(debug|trace)$/i.test(stringFlag(flags, 'log-level') ?? '')) process.stderr.write(`${err.stack}\n`);
    return usage ? 2 : 1;
  }
}

/**
 * Run when this file is executed (`node --import tsx src/cli.ts`, `node dist/src/cli.js`, `node
 * dist/cli/cli.js`: the bundle's entry holds this module), not when imported (tests,
 * bin/koi-net.js, which calls runCli itself).
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

