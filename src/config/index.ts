/**
 * The node's configuration: a commented YAML file, environment variables and command-line flags,
 * merged in that order (later wins) over built-in defaults. Every field is declared once, in
 * schema.ts; this module merges and validates. It is the only module that reads `process.env`;
 * everything else receives a resolved {@link KoiNetConfig}.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KoiNetError } from '../errors.ts';
import { ConfigError } from './codecs.ts';
import { writeConfigFile } from './render.ts';
import { FIELD_LIST, GROUPS, defaultConfig, getField, yamlPath, type ConfigGroup, type ConfigOverrides, type KoiNetConfig } from './schema.ts';
import { envOverrides, parseConfigText } from './sources.ts';

export { ConfigError, UsageError } from './codecs.ts';
export { renderConfig } from './render.ts';
export { effectiveProvides, profileFromConfig, resolveBaseUrl } from './profile.ts';
export { FIELDS, LOG_LEVELS, defaultConfig, type ConfigOverrides, type KoiNetConfig, type NodeKind, type NodeRole } from './schema.ts';
export { configFlagOptions, flagHelp, flagsToOverrides, parseConfigText, type FlagValues } from './sources.ts';

export const DEFAULT_CONFIG_FILE = 'koi-net.yaml';
/** Encrypts the signed protocol's key; read from the environment only, so it never lands in a config file or a log line. */
export const PRIV_KEY_PASSWORD_ENV = 'KOI_NET_PRIV_KEY_PASSWORD';
/** Names the config file when no flag does. */
export const CONFIG_FILE_ENV = 'KOI_NET_CONFIG';

export interface LoadConfigOptions {
  /** Highest precedence (command-line flags). */
  overrides?: ConfigOverrides;
  /** Default `process.env`; tests pass their own. */
  env?: Record<string, string | undefined>;
  /** A missing file is an error only when the caller named it explicitly. Default true. */
  mustExist?: boolean;
}

/**
 * Reads `path` (YAML) if given, applies `KOI_NET_*` environment variables and then `overrides`,
 * validates the result and resolves `data_dir` (relative paths in a file are relative to that
 * file's directory; in overrides and the environment, to the working directory).
 */
export async function loadConfig(path?: string, options: LoadConfigOptions = {}): Promise<KoiNetConfig> {
  const env = options.env ?? process.env;
  let config = defaultConfig();
  if (path !== undefined) {
    const filePath = resolve(path);
    let text: string | undefined;
    try {
      text = await readFile(filePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || options.mustExist !== false) {
        throw new KoiNetError('invalid_config', `cannot read config file ${filePath}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (text !== undefined) config = mergeConfig(config, parseConfigText(text, filePath));
  }
  config = mergeConfig(config, envOverrides(env));
  if (options.overrides) config = mergeConfig(config, withAbsoluteDataDir(options.overrides, process.cwd()));
  config = withDefaultDataDir(config);
  validateConfig(config);
  return config;
}

/** The signed protocol's key password, from {@link PRIV_KEY_PASSWORD_ENV}; undefined when unset or empty. */
export function privateKeyPassword(env: Record<string, string | undefined> = process.env): string | undefined {
  return env[PRIV_KEY_PASSWORD_ENV] || undefined;
}

/** `over` wins field by field; lists are replaced, not concatenated (a flag list means "these"). */
export function mergeConfig(base: KoiNetConfig, over: ConfigOverrides): KoiNetConfig {
  const defined = (o: object | undefined): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, x]) => x !== undefined));
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(defined(over))) if (!(key in GROUPS)) out[key] = value;
  // Groups are always fresh objects, so a merged config never shares one with its base.
  for (const group of Object.keys(GROUPS) as ConfigGroup[]) out[group] = { ...base[group], ...defined(over[group]) };
  return out as unknown as KoiNetConfig;
}

function withDefaultDataDir(c: KoiNetConfig): KoiNetConfig {
  return c.dataDir ? c : { ...c, dataDir: resolve('.koi', c.name) };
}

function withAbsoluteDataDir(o: ConfigOverrides, cwd: string): ConfigOverrides {
  return o.dataDir === undefined ? o : { ...o, dataDir: resolve(cwd, o.dataDir) };
}

/** Checks a merged config (also one built in code); throws {@link ConfigError} naming the field. */
export function validateConfig(c: KoiNetConfig, source?: string): void {
  for (const f of FIELD_LIST) {
    const field = yamlPath(f);
    f.spec.codec.check(getField(c, f), (reason, at = '') => {
      throw new ConfigError(`${field}${at}`, reason, source);
    });
  }
  const fail = (field: string, reason: string): never => {
    throw new ConfigError(field, reason, source);
  };
  if (c.type === 'partial' && c.provides.state.length > 0) {
    fail('provides.state', 'a partial node serves no state (it has no server); leave it empty or use type: full');
  }
  if (c.role === 'coordinator' && c.type !== 'full') fail('role', 'a coordinator must be a full node (type: full)');
  // The request includes its headers, and node:http refuses the reverse.
  if (c.serverHeadersTimeoutMs > c.serverRequestTimeoutMs) {
    fail('server_headers_timeout_ms', `must not exceed server_request_timeout_ms (${c.serverRequestTimeoutMs}), got ${c.serverHeadersTimeoutMs}`);
  }
}

/**
 * The server's request limits, in the shape `createKoiNetApp({ limits })` takes (kept structural so
 * the config module does not depend on the server).
 */
export function serverLimitsFromConfig(
  c: Pick<KoiNetConfig, 'maxEventsPerBroadcast' | 'maxRidsPerFetch' | 'maxEventsPerPoll'>,
): { maxEventsPerBroadcast: number; maxRidsPerFetch: number; maxEventsPerPoll: number } {
  return { maxEventsPerBroadcast: c.maxEventsPerBroadcast, maxRidsPerFetch: c.maxRidsPerFetch, maxEventsPerPoll: c.maxEventsPerPoll };
}

/** The server's timeouts, in the shape `startServer({ timeouts })` takes. */
export function serverTimeoutsFromConfig(
  c: Pick<KoiNetConfig, 'serverHeadersTimeoutMs' | 'serverRequestTimeoutMs' | 'serverKeepAliveTimeoutMs'>,
): { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number } {
  return { headersTimeoutMs: c.serverHeadersTimeoutMs, requestTimeoutMs: c.serverRequestTimeoutMs, keepAliveTimeoutMs: c.serverKeepAliveTimeoutMs };
}

/** Where `start` and `status` look for a config when none is named. */
export function defaultConfigPath(dataDir: string): string {
  return resolve(dataDir, DEFAULT_CONFIG_FILE);
}

/**
 * The config file to use: the one named (flag), else `KOI_NET_CONFIG`, else `<dataDir>/koi-net.yaml`
 * when a data directory was named and holds one, else `./koi-net.yaml` when present. `explicit`
 * tells whether a missing file is an error (it was asked for) or just means "defaults".
 */
export function findConfigFile(
  options: { flag?: string; dataDir?: string; env?: Record<string, string | undefined>; cwd?: string } = {},
): { path: string; explicit: boolean } | undefined {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.flag) return { path: resolve(cwd, options.flag), explicit: true };
  const named = env[CONFIG_FILE_ENV];
  if (named) return { path: resolve(cwd, named), explicit: true };
  if (options.dataDir) {
    const p = defaultConfigPath(resolve(cwd, options.dataDir));
    if (existsSync(p)) return { path: p, explicit: false };
  }
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? { path: local, explicit: false } : undefined;
}

/**
 * Writes a commented config file with the defaults merged with `overrides`; refuses to overwrite
 * an existing file unless `force`. `data_dir` is written relative to the file, so the directory can
 * be moved as a whole. Returns the resolved config it describes.
 */
export async function writeConfigTemplate(path: string, overrides: ConfigOverrides = {}, options: { force?: boolean } = {}): Promise<KoiNetConfig> {
  const c = withDefaultDataDir(mergeConfig(defaultConfig(), withAbsoluteDataDir(overrides, process.cwd())));
  validateConfig(c);
  await writeConfigFile(path, c, options);
  return c;
}
