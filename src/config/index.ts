/**
 * The node's configuration: a commented YAML file, environment variables and command-line flags,
 * merged in that order (later wins) over built-in defaults. This is the only module that reads
 * `process.env`; everything else receives a resolved {@link KoiNetConfig}.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { KoiNetError } from '../errors.ts';
import { RID, RIDType } from '../rid/index.ts';

export type NodeKind = 'full' | 'partial';
export type NodeRole = 'coordinator' | 'none';

export interface KoiNetConfig {
  /** Used for the node RID on first start; the RID never changes afterwards. */
  name: string;
  type: NodeKind;
  /** Interface the full node's server listens on. */
  host: string;
  /** 0 picks a free port at start. */
  port: number;
  /** The base URL peers use to reach us; null = `http://<host>:<port>/koi-net`. */
  baseUrl: string | null;
  /** Base URL of a full node to introduce ourselves to when we know no neighbors. */
  firstContact: string | null;
  /** The first contact's node RID: the signed protocol addresses envelopes to RIDs, not URLs. */
  firstContactRid: string | null;
  /** Wire format: unsigned 1.0.x (default) or the signed koi-net 1.1+/2.x envelopes. */
  protocol: 'unsigned' | 'signed';
  /** koi-net 2.1 `@context` on this node's own profiles; null = on for signed, off for unsigned. */
  profileContext: boolean | null;
  provides: { event: string[]; state: string[] };
  /** Identity, cache and event queues live here (absolute once loaded). */
  dataDir: string;
  role: NodeRole;
  contact: {
    /** Propose edges to nodes that provide node events, and catch up from them. */
    enabled: boolean;
    /** RID types requested on those edges beyond node and edge. */
    ridTypes: string[];
  };
  pollIntervalMs: number;
  log: { level: string; pretty: boolean };
  /** Largest request body the server accepts (express notation, e.g. `1mb`). */
  bodyLimit: string;
  requestTimeoutMs: number;
  /** Longest pause between first-contact handshake attempts while the node has not joined. */
  firstContactRetryMaxMs: number;
  /** Most events one broadcast request may carry (more: 422). */
  maxEventsPerBroadcast: number;
  /** Most RIDs (or RID types) one fetch request may ask for (more: 422). */
  maxRidsPerFetch: number;
  /** Most events one poll answer holds, whatever the caller's `limit`. */
  maxEventsPerPoll: number;
  /** The server cuts off a client whose request headers take longer (408). */
  serverHeadersTimeoutMs: number;
  /** The server cuts off a client whose whole request (headers and body) takes longer (408). */
  serverRequestTimeoutMs: number;
  /** The server closes a keep-alive connection idle for longer. */
  serverKeepAliveTimeoutMs: number;
}

/** A partial config, as given by flags or tests; nested objects are merged field by field. */
export type ConfigOverrides = Partial<Omit<KoiNetConfig, 'provides' | 'contact' | 'log'>> & {
  provides?: Partial<KoiNetConfig['provides']>;
  contact?: Partial<KoiNetConfig['contact']>;
  log?: Partial<KoiNetConfig['log']>;
};

export const DEFAULT_CONFIG_FILE = 'koi-net.yaml';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A config value that cannot be used; `field` is the config file's (snake_case) path. */
export class ConfigError extends KoiNetError {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly source?: string,
  ) {
    super('invalid_config', `invalid config${source ? ` (${source})` : ''}: field "${field}": ${reason}`);
  }
}

export function defaultConfig(): KoiNetConfig {
  return {
    name: 'node',
    type: 'full',
    host: '127.0.0.1',
    port: 8000,
    baseUrl: null,
    firstContact: null,
    firstContactRid: null,
    protocol: 'unsigned',
    profileContext: null,
    provides: { event: [], state: [] },
    // Empty = `.koi/<name>` under the working directory, filled in once the name is known.
    dataDir: '',
    role: 'none',
    contact: { enabled: true, ridTypes: [] },
    pollIntervalMs: 5000,
    log: { level: 'info', pretty: false },
    bodyLimit: '1mb',
    requestTimeoutMs: 10000,
    firstContactRetryMaxMs: 30000,
    // Same values as the server's DEFAULT_SERVER_LIMITS (docs/SECURITY.md explains the choice).
    maxEventsPerBroadcast: 1000,
    maxRidsPerFetch: 10_000,
    maxEventsPerPoll: 1000,
    // Same values as the server's DEFAULT_SERVER_TIMEOUTS.
    serverHeadersTimeoutMs: 10_000,
    serverRequestTimeoutMs: 30_000,
    serverKeepAliveTimeoutMs: 5_000,
  };
}

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

/** Parses a config file's text; every field is checked, unknown fields are refused (typos). */
export function parseConfigText(text: string, filePath = '<config>'): ConfigOverrides {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new KoiNetError('invalid_config', `config file ${filePath} is not valid YAML: ${doc.errors[0]!.message}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return {};
  const r = new FieldReader(filePath);
  const top = r.object(raw, '(root)');
  r.only(top, '', ['name', 'type', 'host', 'port', 'base_url', 'first_contact', 'first_contact_rid', 'protocol', 'profile_context', 'provides', 'data_dir', 'role', 'contact', 'poll_interval_ms', 'log', 'body_limit', 'request_timeout_ms', 'first_contact_retry_max_ms', 'max_events_per_broadcast', 'max_rids_per_fetch', 'max_events_per_poll', 'server_headers_timeout_ms', 'server_request_timeout_ms', 'server_keep_alive_timeout_ms']);
  const out: ConfigOverrides = {};
  if (top.name !== undefined) out.name = r.string(top.name, 'name');
  if (top.type !== undefined) out.type = r.oneOf(top.type, 'type', ['full', 'partial'] as const, true);
  if (top.host !== undefined) out.host = r.string(top.host, 'host');
  if (top.port !== undefined) out.port = r.int(top.port, 'port', 0, 65535);
  if (top.base_url !== undefined) out.baseUrl = r.nullableString(top.base_url, 'base_url');
  if (top.first_contact !== undefined) out.firstContact = r.nullableString(top.first_contact, 'first_contact');
  if (top.first_contact_rid !== undefined) out.firstContactRid = r.nullableString(top.first_contact_rid, 'first_contact_rid');
  if (top.protocol !== undefined) out.protocol = r.oneOf(top.protocol, 'protocol', ['unsigned', 'signed'] as const, true);
  if (top.profile_context !== undefined) out.profileContext = top.profile_context === null ? null : r.bool(top.profile_context, 'profile_context');
  if (top.provides !== undefined && top.provides !== null) {
    const p = r.object(top.provides, 'provides');
    r.only(p, 'provides.', ['event', 'state']);
    out.provides = {};
    if (p.event !== undefined) out.provides.event = r.stringList(p.event, 'provides.event');
    if (p.state !== undefined) out.provides.state = r.stringList(p.state, 'provides.state');
  }
  if (top.data_dir !== undefined) out.dataDir = resolve(dirname(resolve(filePath)), r.string(top.data_dir, 'data_dir'));
  if (top.role !== undefined) out.role = top.role === null ? 'none' : r.oneOf(top.role, 'role', ['coordinator', 'none'] as const, true);
  if (top.contact !== undefined && top.contact !== null) {
    // `contact: false` is accepted as the short form of `contact: { enabled: false }`.
    if (typeof top.contact === 'boolean') out.contact = { enabled: top.contact };
    else {
      const c = r.object(top.contact, 'contact');
      r.only(c, 'contact.', ['enabled', 'rid_types']);
      out.contact = {};
      if (c.enabled !== undefined) out.contact.enabled = r.bool(c.enabled, 'contact.enabled');
      if (c.rid_types !== undefined) out.contact.ridTypes = r.stringList(c.rid_types, 'contact.rid_types');
    }
  }
  if (top.poll_interval_ms !== undefined) out.pollIntervalMs = r.int(top.poll_interval_ms, 'poll_interval_ms', 1, 86_400_000);
  if (top.log !== undefined && top.log !== null) {
    const l = r.object(top.log, 'log');
    r.only(l, 'log.', ['level', 'pretty']);
    out.log = {};
    if (l.level !== undefined) out.log.level = r.oneOf(l.level, 'log.level', LOG_LEVELS, true);
    if (l.pretty !== undefined) out.log.pretty = r.bool(l.pretty, 'log.pretty');
  }
  if (top.body_limit !== undefined) out.bodyLimit = r.bodyLimit(top.body_limit, 'body_limit');
  if (top.request_timeout_ms !== undefined) out.requestTimeoutMs = r.int(top.request_timeout_ms, 'request_timeout_ms', 1, 3_600_000);
  if (top.first_contact_retry_max_ms !== undefined) out.firstContactRetryMaxMs = r.int(top.first_contact_retry_max_ms, 'first_contact_retry_max_ms', 1, 3_600_000);
  if (top.max_events_per_broadcast !== undefined) out.maxEventsPerBroadcast = r.int(top.max_events_per_broadcast, 'max_events_per_broadcast', 1, MAX_LIST_LIMIT);
  if (top.max_rids_per_fetch !== undefined) out.maxRidsPerFetch = r.int(top.max_rids_per_fetch, 'max_rids_per_fetch', 1, MAX_LIST_LIMIT);
  if (top.max_events_per_poll !== undefined) out.maxEventsPerPoll = r.int(top.max_events_per_poll, 'max_events_per_poll', 1, MAX_LIST_LIMIT);
  if (top.server_headers_timeout_ms !== undefined) out.serverHeadersTimeoutMs = r.int(top.server_headers_timeout_ms, 'server_headers_timeout_ms', 1, 3_600_000);
  if (top.server_request_timeout_ms !== undefined) out.serverRequestTimeoutMs = r.int(top.server_request_timeout_ms, 'server_request_timeout_ms', 1, 3_600_000);
  if (top.server_keep_alive_timeout_ms !== undefined) out.serverKeepAliveTimeoutMs = r.int(top.server_keep_alive_timeout_ms, 'server_keep_alive_timeout_ms', 1, 3_600_000);
  return out;
}

/** `KOI_NET_<FIELD>` variables; lists are comma-separated, booleans `true/false/1/0`. */
function envOverrides(env: Record<string, string | undefined>): ConfigOverrides {
  const src = 'environment';
  const r = new FieldReader(src);
  const get = (k: string): string | undefined => {
    const v = env[`KOI_NET_${k}`];
    return v === undefined || v === '' ? undefined : v;
  };
  const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
  const out: ConfigOverrides = {};
  const v = {
    name: get('NAME'),
    type: get('TYPE'),
    host: get('HOST'),
    port: get('PORT'),
    baseUrl: get('BASE_URL'),
    firstContact: get('FIRST_CONTACT'),
    firstContactRid: get('FIRST_CONTACT_RID'),
    protocol: get('PROTOCOL'),
    profileContext: get('PROFILE_CONTEXT'),
    event: get('PROVIDES_EVENT'),
    state: get('PROVIDES_STATE'),
    dataDir: get('DATA_DIR'),
    role: get('ROLE'),
    contact: get('CONTACT'),
    poll: get('POLL_INTERVAL_MS'),
    level: get('LOG_LEVEL'),
    pretty: get('LOG_PRETTY'),
    bodyLimit: get('BODY_LIMIT'),
    timeout: get('REQUEST_TIMEOUT_MS'),
    firstContactRetryMax: get('FIRST_CONTACT_RETRY_MAX_MS'),
    maxBroadcast: get('MAX_EVENTS_PER_BROADCAST'),
    maxFetch: get('MAX_RIDS_PER_FETCH'),
    maxPoll: get('MAX_EVENTS_PER_POLL'),
    headersTimeout: get('SERVER_HEADERS_TIMEOUT_MS'),
    serverRequestTimeout: get('SERVER_REQUEST_TIMEOUT_MS'),
    keepAliveTimeout: get('SERVER_KEEP_ALIVE_TIMEOUT_MS'),
  };
  if (v.name) out.name = v.name;
  if (v.type) out.type = r.oneOf(v.type, 'KOI_NET_TYPE', ['full', 'partial'] as const, true);
  if (v.host) out.host = v.host;
  if (v.port) out.port = r.int(v.port, 'KOI_NET_PORT', 0, 65535);
  if (v.baseUrl) out.baseUrl = v.baseUrl;
  if (v.firstContact) out.firstContact = v.firstContact;
  if (v.firstContactRid) out.firstContactRid = v.firstContactRid;
  if (v.protocol) out.protocol = r.oneOf(v.protocol, 'KOI_NET_PROTOCOL', ['unsigned', 'signed'] as const, true);
  if (v.profileContext) out.profileContext = r.bool(v.profileContext, 'KOI_NET_PROFILE_CONTEXT');
  if (v.event || v.state) {
    out.provides = {};
    if (v.event) out.provides.event = list(v.event);
    if (v.state) out.provides.state = list(v.state);
  }
  if (v.dataDir) out.dataDir = resolve(v.dataDir);
  if (v.role) out.role = r.oneOf(v.role, 'KOI_NET_ROLE', ['coordinator', 'none'] as const, true);
  if (v.contact) out.contact = { enabled: r.bool(v.contact, 'KOI_NET_CONTACT') };
  if (v.poll) out.pollIntervalMs = r.int(v.poll, 'KOI_NET_POLL_INTERVAL_MS', 1, 86_400_000);
  if (v.level || v.pretty) {
    out.log = {};
    if (v.level) out.log.level = r.oneOf(v.level, 'KOI_NET_LOG_LEVEL', LOG_LEVELS, true);
    if (v.pretty) out.log.pretty = r.bool(v.pretty, 'KOI_NET_LOG_PRETTY');
  }
  if (v.bodyLimit) out.bodyLimit = r.bodyLimit(v.bodyLimit, 'KOI_NET_BODY_LIMIT');
  if (v.timeout) out.requestTimeoutMs = r.int(v.timeout, 'KOI_NET_REQUEST_TIMEOUT_MS', 1, 3_600_000);
  if (v.firstContactRetryMax) out.firstContactRetryMaxMs = r.int(v.firstContactRetryMax, 'KOI_NET_FIRST_CONTACT_RETRY_MAX_MS', 1, 3_600_000);
  if (v.maxBroadcast) out.maxEventsPerBroadcast = r.int(v.maxBroadcast, 'KOI_NET_MAX_EVENTS_PER_BROADCAST', 1, MAX_LIST_LIMIT);
  if (v.maxFetch) out.maxRidsPerFetch = r.int(v.maxFetch, 'KOI_NET_MAX_RIDS_PER_FETCH', 1, MAX_LIST_LIMIT);
  if (v.maxPoll) out.maxEventsPerPoll = r.int(v.maxPoll, 'KOI_NET_MAX_EVENTS_PER_POLL', 1, MAX_LIST_LIMIT);
  if (v.headersTimeout) out.serverHeadersTimeoutMs = r.int(v.headersTimeout, 'KOI_NET_SERVER_HEADERS_TIMEOUT_MS', 1, 3_600_000);
  if (v.serverRequestTimeout) out.serverRequestTimeoutMs = r.int(v.serverRequestTimeout, 'KOI_NET_SERVER_REQUEST_TIMEOUT_MS', 1, 3_600_000);
  if (v.keepAliveTimeout) out.serverKeepAliveTimeoutMs = r.int(v.keepAliveTimeout, 'KOI_NET_SERVER_KEEP_ALIVE_TIMEOUT_MS', 1, 3_600_000);
  return out;
}

/** `over` wins field by field; lists are replaced, not concatenated (a flag list means "these"). */
export function mergeConfig(base: KoiNetConfig, over: ConfigOverrides): KoiNetConfig {
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, x]) => x !== undefined)) as Partial<T>;
  const { provides, contact, log, ...flat } = over;
  return {
    ...base,
    ...defined(flat),
    provides: { ...base.provides, ...defined(provides) },
    contact: { ...base.contact, ...defined(contact) },
    log: { ...base.log, ...defined(log) },
  };
}

function withDefaultDataDir(c: KoiNetConfig): KoiNetConfig {
  return c.dataDir ? c : { ...c, dataDir: resolve('.koi', c.name) };
}

function withAbsoluteDataDir(o: ConfigOverrides, cwd: string): ConfigOverrides {
  return o.dataDir === undefined ? o : { ...o, dataDir: resolve(cwd, o.dataDir) };
}

/** Checks a merged config (also one built in code); throws {@link ConfigError} naming the field. */
export function validateConfig(c: KoiNetConfig, source?: string): void {
  const fail = (field: string, reason: string): never => {
    throw new ConfigError(field, reason, source);
  };
  if (typeof c.name !== 'string' || !/^[^\s:+]+$/.test(c.name)) {
    fail('name', `must be a non-empty string without spaces, ':' or '+' (it becomes part of the node RID), got ${JSON.stringify(c.name)}`);
  }
  if (c.type !== 'full' && c.type !== 'partial') fail('type', `must be full or partial, got ${JSON.stringify(c.type)}`);
  if (!c.host) fail('host', 'must not be empty');
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) fail('port', `must be an integer 0-65535, got ${JSON.stringify(c.port)}`);
  if (c.baseUrl !== null) checkUrl(c.baseUrl, 'base_url', fail);
  if (c.firstContact !== null) checkUrl(c.firstContact, 'first_contact', fail);
  if (c.protocol !== 'unsigned' && c.protocol !== 'signed') fail('protocol', `must be unsigned or signed, got ${JSON.stringify(c.protocol)}`);
  if (c.firstContactRid !== null) {
    let ok = false;
    try {
      ok = RID.fromString(c.firstContactRid).type.toString() === 'orn:koi-net.node';
    } catch {
      ok = false;
    }
    if (!ok) fail('first_contact_rid', `must be an orn:koi-net.node RID, got ${JSON.stringify(c.firstContactRid)}`);
  }
  for (const [field, list] of [
    ['provides.event', c.provides.event],
    ['provides.state', c.provides.state],
    ['contact.rid_types', c.contact.ridTypes],
  ] as const) {
    list.forEach((t, i) => {
      try {
        RIDType.fromString(t);
      } catch (err) {
        fail(`${field}[${i}]`, `not an RID type: ${(err as Error).message}`);
      }
    });
  }
  if (c.type === 'partial' && c.provides.state.length > 0) {
    fail('provides.state', 'a partial node serves no state (it has no server); leave it empty or use type: full');
  }
  if (c.role === 'coordinator' && c.type !== 'full') fail('role', 'a coordinator must be a full node (type: full)');
  if (c.role !== 'coordinator' && c.role !== 'none') fail('role', `must be coordinator or none, got ${JSON.stringify(c.role)}`);
  if (!c.dataDir) fail('data_dir', 'must not be empty');
  if (!Number.isInteger(c.pollIntervalMs) || c.pollIntervalMs < 1) fail('poll_interval_ms', `must be a positive integer, got ${JSON.stringify(c.pollIntervalMs)}`);
  if (!(LOG_LEVELS as readonly string[]).includes(c.log.level)) fail('log.level', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(c.log.level)}`);
  if (!Number.isInteger(c.requestTimeoutMs) || c.requestTimeoutMs < 1) fail('request_timeout_ms', `must be a positive integer, got ${JSON.stringify(c.requestTimeoutMs)}`);
  if (!Number.isInteger(c.firstContactRetryMaxMs) || c.firstContactRetryMaxMs < 1) fail('first_contact_retry_max_ms', `must be a positive integer, got ${JSON.stringify(c.firstContactRetryMaxMs)}`);
  for (const [field, n] of [
    ['max_events_per_broadcast', c.maxEventsPerBroadcast],
    ['max_rids_per_fetch', c.maxRidsPerFetch],
    ['max_events_per_poll', c.maxEventsPerPoll],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) fail(field, `must be an integer 1-${MAX_LIST_LIMIT}, got ${JSON.stringify(n)}`);
  }
  for (const [field, n] of [
    ['server_headers_timeout_ms', c.serverHeadersTimeoutMs],
    ['server_request_timeout_ms', c.serverRequestTimeoutMs],
    ['server_keep_alive_timeout_ms', c.serverKeepAliveTimeoutMs],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 3_600_000) fail(field, `must be an integer 1-3600000 (ms), got ${JSON.stringify(n)}`);
  }
  // The request includes its headers, and node:http refuses the reverse.
  if (c.serverHeadersTimeoutMs > c.serverRequestTimeoutMs) {
    fail('server_headers_timeout_ms', `must not exceed server_request_timeout_ms (${c.serverRequestTimeoutMs}), got ${c.serverHeadersTimeoutMs}`);
  }
  if (!BODY_LIMIT.test(c.bodyLimit)) fail('body_limit', `must look like 100kb, 1mb or a byte count, got ${JSON.stringify(c.bodyLimit)}`);
}

function checkUrl(value: string, field: string, fail: (field: string, reason: string) => never): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(field, `not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(field, `must be an http(s) URL, got ${JSON.stringify(value)}`);
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

/** The base URL this node announces in its profile. */
export function resolveBaseUrl(c: Pick<KoiNetConfig, 'baseUrl' | 'host' | 'port'>, port = c.port): string {
  if (c.baseUrl) return c.baseUrl.replace(/\/+$/, '');
  // Listening on every interface says nothing about how peers reach us; loopback is the honest default.
  const host = c.host === '0.0.0.0' || c.host === '::' ? '127.0.0.1' : c.host;
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/koi-net`;
}

/** Event and state RID types after the role is applied: a coordinator provides node and edge. */
export function effectiveProvides(c: KoiNetConfig): { event: string[]; state: string[] } {
  const uniq = (xs: string[]): string[] => [...new Set(xs)];
  if (c.role !== 'coordinator') return { event: uniq(c.provides.event), state: uniq(c.provides.state) };
  const coord = ['orn:koi-net.node', 'orn:koi-net.edge'];
  return { event: uniq([...coord, ...c.provides.event]), state: uniq([...coord, ...c.provides.state]) };
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
  if (env.KOI_NET_CONFIG) return { path: resolve(cwd, env.KOI_NET_CONFIG), explicit: true };
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
  const filePath = resolve(path);
  if (!options.force && existsSync(filePath)) {
    throw new KoiNetError('config_exists', `config file ${filePath} already exists (use --force to overwrite)`);
  }
  const c = withDefaultDataDir(mergeConfig(defaultConfig(), withAbsoluteDataDir(overrides, process.cwd())));
  validateConfig(c);
  await mkdir(dirname(filePath), { recursive: true });
  await writeFile(filePath, renderConfig(c, dirname(filePath)));
  return c;
}

/** The YAML text of a config, with a comment on every field. */
export function renderConfig(c: KoiNetConfig, relativeTo?: string): string {
  const y = (v: unknown): string => stringify(v).trimEnd();
  const list = (xs: string[]): string => (xs.length === 0 ? '[]' : `[${xs.map((x) => y(x)).join(', ')}]`);
  let dataDir = c.dataDir;
  if (relativeTo && isAbsolute(dataDir)) dataDir = relative(relativeTo, dataDir) || '.';
  return `# koi-net node configuration.
# Precedence: command-line flags > KOI_NET_* environment variables > this file > defaults.

# Becomes part of the node RID (orn:koi-net.node:<name>+<uuid>) on first start; the RID is then
# kept in <data_dir>/identity.json and never changes.
name: ${y(c.name)}

# full: runs the KOI-net HTTP API (receives events by webhook, serves state).
# partial: no server; polls its neighbors for events.
type: ${c.type}

# Where a full node listens. Port 0 picks a free port at start.
host: ${y(c.host)}
port: ${c.port}

# The URL peers use to reach this node, announced in its profile.
# null = http://<host>:<port>/koi-net
base_url: ${y(c.baseUrl)}

# Base URL of a full node (e.g. a coordinator) to introduce this node to while it knows no
# neighbors, e.g. http://127.0.0.1:8000/koi-net. null = none.
first_contact: ${y(c.firstContact)}

# The first contact's node RID. Needed with protocol: signed, where every request is an envelope
# addressed to a node RID. null = none.
first_contact_rid: ${y(c.firstContactRid)}

# Wire format. unsigned: koi-net 1.0.x (default). signed: koi-net 1.1+/2.x signed envelopes; the
# node then keeps an ECDSA P-256 key in <data_dir>/priv_key.pem (encrypted with the
# KOI_NET_PRIV_KEY_PASSWORD environment variable when set), and its RID hashes the public key.
protocol: ${c.protocol}

# koi-net 2.1 profiles: this node's node and edge profiles carry "@context" first.
# null = on with protocol: signed, off with unsigned.
profile_context: ${c.profileContext === null ? 'null' : String(c.profileContext)}

# RID types this node broadcasts events about, and serves state (fetch) for (full nodes only).
provides:
  event: ${list(c.provides.event)}
  state: ${list(c.provides.state)}

# Identity, cache and event queues. Relative paths are relative to this file.
data_dir: ${y(dataDir)}

# coordinator: welcomes new nodes (sends them its bundle and offers an edge) and provides node and
# edge events and state. none: no such role.
role: ${c.role}

# Contact behaviour: on learning of a node that provides node events, propose an edge from it to
# this node (for node and edge events plus rid_types) and catch up on the nodes it knows.
contact:
  enabled: ${c.contact.enabled}
  rid_types: ${list(c.contact.ridTypes)}

# Partial nodes: milliseconds between poll rounds.
poll_interval_ms: ${c.pollIntervalMs}

log:
  # fatal, error, warn, info, debug, trace or silent
  level: ${c.log.level}
  # Human-readable lines instead of JSON.
  pretty: ${c.log.pretty}

# Largest request body the server accepts.
body_limit: ${y(c.bodyLimit)}

# Timeout of each request to another node, in milliseconds.
request_timeout_ms: ${c.requestTimeoutMs}

# Until it has an approved edge, the node retries its first-contact handshake with exponential
# backoff and jitter (1 s doubling); this caps the delay between attempts, in milliseconds.
first_contact_retry_max_ms: ${c.firstContactRetryMaxMs}

# Request limits of the server (more is answered 422); see docs/SECURITY.md.
# Most events in one /events/broadcast request.
max_events_per_broadcast: ${c.maxEventsPerBroadcast}
# Most rids / rid_types in one fetch request.
max_rids_per_fetch: ${c.maxRidsPerFetch}
# Most events in one /events/poll answer, whatever limit the caller asks for (the rest stay queued).
max_events_per_poll: ${c.maxEventsPerPoll}

# How long the server waits for slow clients, in milliseconds (408 and close after).
# Request headers:
server_headers_timeout_ms: ${c.serverHeadersTimeoutMs}
# A whole request, headers and body (not the time the node takes to answer):
server_request_timeout_ms: ${c.serverRequestTimeoutMs}
# An idle keep-alive connection between requests:
server_keep_alive_timeout_ms: ${c.serverKeepAliveTimeoutMs}
`;
}

/** A cap above this is no cap: it exceeds what a 1 GB body could hold of the smallest item. */
const MAX_LIST_LIMIT = 10_000_000;

const BODY_LIMIT = /^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i;

/** Typed reads of untrusted YAML values, each error naming the field. */
class FieldReader {
  constructor(private readonly source: string) {}

  private fail(field: string, reason: string): never {
    throw new ConfigError(field, reason, this.source);
  }
  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `must be a mapping, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }
  only(o: Record<string, unknown>, prefix: string, keys: string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) this.fail(`${prefix}${k}`, `unknown field (known: ${keys.join(', ')})`);
    }
  }
  string(v: unknown, field: string): string {
    if (typeof v !== 'string' || v === '') this.fail(field, `must be a non-empty string, got ${describe(v)}`);
    return v as string;
  }
  nullableString(v: unknown, field: string): string | null {
    return v === null ? null : this.string(v, field);
  }
  bool(v: unknown, field: string): boolean {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const s = v.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
    }
    return this.fail(field, `must be true or false, got ${describe(v)}`);
  }
  int(v: unknown, field: string, min: number, max: number): number {
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) this.fail(field, `must be an integer ${min}-${max}, got ${describe(v)}`);
    return n as number;
  }
  oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], caseInsensitive = false): T {
    const s = typeof v === 'string' && caseInsensitive ? v.toLowerCase() : v;
    if (typeof s !== 'string' || !(allowed as readonly string[]).includes(s)) this.fail(field, `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
    return s as T;
  }
  stringList(v: unknown, field: string): string[] {
    if (v === null) return [];
    if (!Array.isArray(v)) this.fail(field, `must be a list, got ${describe(v)}`);
    return (v as unknown[]).map((x, i) => this.string(x, `${field}[${i}]`));
  }
  bodyLimit(v: unknown, field: string): string {
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !BODY_LIMIT.test(s)) this.fail(field, `must look like 100kb, 1mb or a byte count, got ${describe(v)}`);
    return s as string;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}
