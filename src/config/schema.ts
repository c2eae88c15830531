/**
 * The one table of configuration fields. Each field is declared here once, with its YAML key,
 * default, template comment, `KOI_NET_*` variable, command-line flag and codec (how it is read
 * and checked); the file loader, the environment reader, the flag parser, `--help`, the config
 * template and the validator all walk this table. The TypeScript shape is {@link KoiNetConfig};
 * the `satisfies` check below makes the table cover each of its fields exactly once, with a
 * default of the right type.
 */
import { DEFAULT_FIRST_CONTACT_RETRY } from '../network/first-contact.ts';
import { RID } from '../rid/index.ts';
import { checkPostgresUrl } from '../postgres/url.ts';
import { DEFAULT_SERVER_TIMEOUTS, MAX_SERVER_TIMEOUT_MS } from '../server/timeouts.ts';
import { bool, byteSize, checkUrl, choice, directory, int, MAX_LIST_LIMIT, nullableBool, nullableText, ridTypeList, text, type Codec } from './codecs.ts';

export type NodeKind = 'full' | 'partial';
export type NodeRole = 'coordinator' | 'none';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The resolved configuration; what each field means is in {@link FIELDS}. */
export interface KoiNetConfig {
  name: string;
  type: NodeKind;
  host: string;
  port: number;
  baseUrl: string | null;
  firstContact: string | null;
  firstContactRid: string | null;
  protocol: 'unsigned' | 'signed' | 'both';
  /** koi-net 2.1 `@context` on this node's own profiles; null = on for signed, off for unsigned. */
  profileContext: boolean | null;
  provides: { event: string[]; state: string[] };
  /** Absolute once loaded. */
  dataDir: string;
  /** null = files in the data dir; else a postgres://USER@HOST:PORT/DB URL. */
  store: string | null;
  /** Processes serving this node on one port (node:cluster); more than 1 needs a PostgreSQL store. */
  workers: number;
  role: NodeRole;
  contact: { enabled: boolean; ridTypes: string[] };
  /** Start-up catch-up from approved providers (koi-net 2.x's sync). */
  catchUp: boolean;
  /** The RID types it covers; empty = every type on an approved edge into this node. */
  catchUpRidTypes: string[];
  pollIntervalMs: number;
  log: { level: string; pretty: boolean };
  bodyLimit: string;
  requestTimeoutMs: number;
  firstContactRetryMaxMs: number;
  maxEventsPerBroadcast: number;
  maxRidsPerFetch: number;
  maxEventsPerPoll: number;
  serverHeadersTimeoutMs: number;
  serverRequestTimeoutMs: number;
  serverKeepAliveTimeoutMs: number;
}

/** Fields that are mappings of their own in the file (`log: { level, pretty }`). */
export type ConfigGroup = 'provides' | 'contact' | 'log';

/** A partial config, as given by flags or tests; nested objects are merged field by field. */
export type ConfigOverrides = Partial<Omit<KoiNetConfig, ConfigGroup>> & { [G in ConfigGroup]?: Partial<KoiNetConfig[G]> };

export type FieldPath =
  | Exclude<keyof KoiNetConfig, ConfigGroup>
  | { [G in ConfigGroup]: `${G}.${keyof KoiNetConfig[G] & string}` }[ConfigGroup];

type ValueAt<P extends FieldPath> = P extends `${infer G extends ConfigGroup}.${infer S}`
  ? S extends keyof KoiNetConfig[G]
    ? KoiNetConfig[G][S]
    : never
  : P extends keyof KoiNetConfig
    ? KoiNetConfig[P]
    : never;

export interface FlagSpec {
  name: string;
  /** The value's placeholder in --help (none for switches). */
  arg?: string;
  /** --help text; null = described on another field's line (`--host HOST  --port PORT`). */
  help: string[] | null;
  /** What --help shows on the left, when more than `--name ARG`. */
  usage?: string;
  /** A second switch that sets the field to false (`--no-contact`). */
  negation?: string;
  /** Append `(default N)` to the help text. */
  showDefault?: boolean;
}

export interface FieldSpec<T> {
  /** Key in the file: `log.level` is `level` under `log:`. */
  yaml: string;
  default: T;
  codec: Codec<T>;
  env: `KOI_NET_${string}` | null;
  flag: FlagSpec | null;
  /** Comment lines above the field in the template. */
  doc: string[];
  /** false: no blank line before the field in the template (it continues the previous one). */
  section?: boolean;
}

/** The groups' own comments in the template; `shorthand`: `contact: false` means `contact: { enabled: false }`. */
export const GROUPS: Record<ConfigGroup, { doc: string[]; shorthand?: string }> = {
  provides: { doc: ['RID types this node broadcasts events about, and serves state (fetch) for (full nodes only).'] },
  contact: {
    doc: [
      'Contact behaviour: on learning of a node that provides node events, propose an edge from it to',
      'this node (for node and edge events plus rid_types) and catch up on the nodes it knows.',
    ],
    shorthand: 'enabled',
  },
  log: { doc: [] },
};


/** Cap of the client-side timeouts: a bigger one is a typo, not a choice. */
const HOUR_MS = 3_600_000;

export const FIELDS = {
  name: {
    yaml: 'name',
    default: 'node',
    codec: text((v, fail) => {
      if (typeof v !== 'string' || !/^[^\s:+]+$/.test(v)) {
        fail(`must be a non-empty string without spaces, ':' or '+' (it becomes part of the node RID), got ${JSON.stringify(v)}`);
      }
    }),
    env: 'KOI_NET_NAME',
    flag: { name: 'name', arg: 'NAME', help: ['node name (part of the RID made on first start)'] },
    doc: [
      'Becomes part of the node RID (orn:koi-net.node:<name>+<uuid>) on first start; the RID is then',
      'kept in <data_dir>/identity.json and never changes.',
    ],
  },
  type: {
    yaml: 'type',
    default: 'full',
    codec: choice(['full', 'partial'] as const, { strictFlag: true }),
    env: 'KOI_NET_TYPE',
    flag: { name: 'type', usage: '--type full|partial', help: ['full: HTTP server; partial: polls its neighbors'] },
    doc: ['full: runs the KOI-net HTTP API (receives events by webhook, serves state).', 'partial: no server; polls its neighbors for events.'],
  },
  host: {
    yaml: 'host',
    default: '127.0.0.1',
    codec: text(),
    env: 'KOI_NET_HOST',
    flag: { name: 'host', usage: '--host HOST  --port PORT', help: ['where a full node listens (port 0: a free port)'] },
    doc: ['Where a full node listens. Port 0 picks a free port at start.'],
  },
  port: {
    yaml: 'port',
    default: 8000,
    codec: int(0, 65535),
    env: 'KOI_NET_PORT',
    flag: { name: 'port', arg: 'PORT', help: null },
    doc: [],
    section: false,
  },
  baseUrl: {
    yaml: 'base_url',
    default: null,
    codec: nullableText(checkUrl),
    env: 'KOI_NET_BASE_URL',
    flag: { name: 'base-url', arg: 'URL', help: ['URL peers use (default http://<host>:<port>/koi-net)'] },
    doc: ['The URL peers use to reach this node, announced in its profile.', 'null = http://<host>:<port>/koi-net'],
  },
  firstContact: {
    yaml: 'first_contact',
    default: null,
    codec: nullableText(checkUrl),
    env: 'KOI_NET_FIRST_CONTACT',
    flag: { name: 'first-contact', arg: 'URL', help: ['base URL of a full node to introduce this node to'] },
    doc: [
      'Base URL of a full node (e.g. a coordinator) to introduce this node to while it knows no',
      'neighbors, e.g. http://127.0.0.1:8000/koi-net. null = none.',
    ],
  },
  firstContactRid: {
    yaml: 'first_contact_rid',
    default: null,
    // The signed protocol addresses envelopes to node RIDs, not URLs.
    codec: nullableText((v, fail) => {
      let ok = false;
      try {
        ok = RID.fromString(v).type.toString() === 'orn:koi-net.node';
      } catch {
        ok = false;
      }
      if (!ok) fail(`must be an orn:koi-net.node RID, got ${JSON.stringify(v)}`);
    }),
    env: 'KOI_NET_FIRST_CONTACT_RID',
    flag: { name: 'first-contact-rid', arg: 'RID', help: ['its node RID (needed with --protocol signed)'] },
    doc: ['The first contact\'s node RID. Needed with protocol: signed, where every request is an envelope', 'addressed to a node RID. null = none.'],
  },
  protocol: {
    yaml: 'protocol',
    default: 'unsigned',
    codec: choice(['unsigned', 'signed', 'both'] as const, { strictFlag: true }),
    env: 'KOI_NET_PROTOCOL',
    flag: {
      name: 'protocol',
      usage: '--protocol unsigned|signed|both',
      help: [
        'wire format: koi-net 1.0.x (default), 1.1+/2.x signed envelopes, or',
        'both (a bridge: answers each request in its format, calls each peer in',
        'its own; signed and both: key in <data-dir>/priv_key.pem, encrypted',
        'with KOI_NET_PRIV_KEY_PASSWORD when set)',
      ],
    },
    doc: [
      'Wire format. unsigned: koi-net 1.0.x (default). signed: koi-net 1.1+/2.x signed envelopes; the',
      'node then keeps an ECDSA P-256 key in <data_dir>/priv_key.pem (encrypted with the',
      'KOI_NET_PRIV_KEY_PASSWORD environment variable when set), and its RID hashes the public key.',
      'both: a bridge between the two networks, with the key of a signed node; it answers each request',
      'in the format it came in and calls each peer in its own (docs/VERSIONS.md).',
    ],
  },
  profileContext: {
    yaml: 'profile_context',
    default: null,
    codec: nullableBool(),
    env: 'KOI_NET_PROFILE_CONTEXT',
    flag: null,
    doc: [
      "koi-net 2.1's `@context` as the first field of this node's own node and edge profiles.",
      'null = on with protocol: signed or both (the 2.1 shape), off with unsigned; false keeps the 2.0 shape.',
    ],
  },
  'provides.event': {
    yaml: 'event',
    default: [],
    codec: ridTypeList(),
    env: 'KOI_NET_PROVIDES_EVENT',
    flag: { name: 'provides-event', arg: 'TYPE', help: ['RID type this node sends events about (repeatable)'] },
    doc: [],
  },
  'provides.state': {
    yaml: 'state',
    default: [],
    codec: ridTypeList(),
    env: 'KOI_NET_PROVIDES_STATE',
    flag: { name: 'provides-state', arg: 'TYPE', help: ['RID type this node serves state for (repeatable)'] },
    doc: [],
  },
  dataDir: {
    yaml: 'data_dir',
    // Empty = `.koi/<name>` under the working directory, filled in once the name is known.
    default: '',
    codec: directory(),
    env: 'KOI_NET_DATA_DIR',
    flag: { name: 'data-dir', arg: 'DIR', help: ['identity, cache and queues (default .koi/<name>)'] },
    doc: ['Identity, cache and event queues. Relative paths are relative to this file.'],
  },
  store: {
    yaml: 'store',
    default: null,
    codec: nullableText((v, fail) => {
      const problem = checkPostgresUrl(v);
      if (problem) fail(problem);
    }),
    env: 'KOI_NET_STORE',
    flag: { name: 'store', arg: 'URL', help: ['postgres://USER@HOST:PORT/DB: keep knowledge, queues, inbox and', 'identity in PostgreSQL (default: files in the data dir)'] },
    doc: [
      'Where the node keeps knowledge, event queues, inbox and identity. null = files in data_dir.',
      'postgres://USER@HOST:PORT/DB = that PostgreSQL database (schema created and migrated by the node).',
    ],
  },
  workers: {
    yaml: 'workers',
    default: 1,
    codec: int(1, 256, { positive: true }),
    env: 'KOI_NET_WORKERS',
    flag: { name: 'workers', arg: 'N', help: ['processes serving this node on its one port (needs --store;', 'default 1)'] },
    doc: [
      'Processes serving this node on its one port: a supervisor forks this many workers (node:cluster).',
      'More than 1 needs a PostgreSQL store (files are kept by one process).',
    ],
  },
  role: {
    yaml: 'role',
    default: 'none',
    codec: choice(['coordinator', 'none'] as const, { strictFlag: true, nullAs: 'none' }),
    env: 'KOI_NET_ROLE',
    flag: { name: 'role', usage: '--role coordinator|none', help: ['coordinator: welcomes new nodes, provides node and edge events/state'] },
    doc: [
      'coordinator: welcomes new nodes (sends them its bundle and offers an edge) and provides node and',
      'edge events and state. none: no such role.',
    ],
  },
  'contact.enabled': {
    yaml: 'enabled',
    default: true,
    codec: bool(),
    env: 'KOI_NET_CONTACT',
    flag: { name: 'contact', negation: 'no-contact', usage: '--no-contact / --contact', help: ['switch the contact behaviour (edge to node-event providers + catch-up)'] },
    doc: [],
  },
  'contact.ridTypes': {
    yaml: 'rid_types',
    default: [],
    codec: ridTypeList(),
    env: null,
    flag: { name: 'contact-rid-type', arg: 'TYPE', help: ['extra RID type requested on contact edges (repeatable)'] },
    doc: [],
  },
  catchUp: {
    yaml: 'catch_up',
    default: true,
    codec: bool(),
    env: 'KOI_NET_CATCH_UP',
    flag: { name: 'catch-up', negation: 'no-catch-up', usage: '--no-catch-up / --catch-up', help: ['switch the start-up catch-up from approved providers'] },
    doc: [
      'Start-up catch-up (koi-net 2.x\'s sync of rid_types_of_interest): once running, ask each full node',
      'this node holds an approved edge from for the manifests of that edge\'s RID types, and take in',
      'what is new or newer than the cache (what changed while this node was stopped).',
    ],
  },
  catchUpRidTypes: {
    yaml: 'catch_up_rid_types',
    default: [],
    codec: ridTypeList(),
    env: null,
    flag: { name: 'catch-up-rid-type', arg: 'TYPE', help: ['limit the start-up catch-up to this RID type (repeatable)'] },
    doc: ['The RID types it covers; [] = every type on an approved edge into this node.'],
    section: false,
  },
  pollIntervalMs: {
    yaml: 'poll_interval_ms',
    default: 5000,
    codec: int(1, 86_400_000, { positive: true }),
    env: 'KOI_NET_POLL_INTERVAL_MS',
    flag: { name: 'poll-interval', arg: 'MS', help: ['partial nodes: pause between poll rounds'] },
    doc: ['Partial nodes: milliseconds between poll rounds.'],
  },
  'log.level': {
    yaml: 'level',
    default: 'info',
    codec: choice(LOG_LEVELS),
    env: 'KOI_NET_LOG_LEVEL',
    flag: { name: 'log-level', arg: 'LEVEL', help: [LOG_LEVELS.join('|')] },
    doc: [LOG_LEVELS.slice(0, -1).join(', ') + ' or ' + LOG_LEVELS[LOG_LEVELS.length - 1]],
  },
  'log.pretty': {
    yaml: 'pretty',
    default: false,
    codec: bool(),
    env: 'KOI_NET_LOG_PRETTY',
    flag: { name: 'pretty', help: ['human-readable logs instead of JSON lines'] },
    doc: ['Human-readable lines instead of JSON.'],
  },
  bodyLimit: {
    yaml: 'body_limit',
    default: '1mb',
    codec: byteSize(),
    env: 'KOI_NET_BODY_LIMIT',
    flag: { name: 'body-limit', arg: 'SIZE', help: ['largest request body (e.g. 1mb)'] },
    doc: ['Largest request body the server accepts.'],
  },
  requestTimeoutMs: {
    yaml: 'request_timeout_ms',
    default: 10_000,
    codec: int(1, HOUR_MS, { positive: true }),
    env: 'KOI_NET_REQUEST_TIMEOUT_MS',
    flag: { name: 'request-timeout', arg: 'MS', help: ['timeout of each request to another node'] },
    doc: ['Timeout of each request to another node, in milliseconds.'],
  },
  firstContactRetryMaxMs: {
    yaml: 'first_contact_retry_max_ms',
    default: DEFAULT_FIRST_CONTACT_RETRY.maxDelayMs,
    codec: int(1, HOUR_MS, { positive: true }),
    env: 'KOI_NET_FIRST_CONTACT_RETRY_MAX_MS',
    flag: { name: 'first-contact-retry-max', arg: 'MS', help: ['longest pause between first-contact handshake retries'], showDefault: true },
    doc: [
      'Until it has an approved edge, the node retries its first-contact handshake with exponential',
      'backoff and jitter (1 s doubling); this caps the delay between attempts, in milliseconds.',
    ],
  },
  // The server's request limits; docs/SECURITY.md explains the defaults. They are the server's
  // DEFAULT_SERVER_LIMITS, which live in the Express app module (too heavy to load for --help);
  // test/unit/config/limits.test.ts holds the two equal.
  maxEventsPerBroadcast: {
    yaml: 'max_events_per_broadcast',
    default: 1000,
    codec: int(1, MAX_LIST_LIMIT),
    env: 'KOI_NET_MAX_EVENTS_PER_BROADCAST',
    flag: { name: 'max-events-per-broadcast', arg: 'N', help: ['most events in one broadcast request'], showDefault: true },
    doc: ['Request limits of the server (more is answered 422); see docs/SECURITY.md.', 'Most events in one /events/broadcast request.'],
  },
  maxRidsPerFetch: {
    yaml: 'max_rids_per_fetch',
    default: 10_000,
    codec: int(1, MAX_LIST_LIMIT),
    env: 'KOI_NET_MAX_RIDS_PER_FETCH',
    flag: { name: 'max-rids-per-fetch', arg: 'N', help: ['most rids / rid_types in one fetch request'], showDefault: true },
    doc: ['Most rids / rid_types in one fetch request.'],
    section: false,
  },
  maxEventsPerPoll: {
    yaml: 'max_events_per_poll',
    default: 1000,
    codec: int(1, MAX_LIST_LIMIT),
    env: 'KOI_NET_MAX_EVENTS_PER_POLL',
    flag: { name: 'max-events-per-poll', arg: 'N', help: ['most events in one poll answer'], showDefault: true },
    doc: ['Most events in one /events/poll answer, whatever limit the caller asks for (the rest stay queued).'],
    section: false,
  },
  serverHeadersTimeoutMs: {
    yaml: 'server_headers_timeout_ms',
    default: DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs,
    codec: int(1, MAX_SERVER_TIMEOUT_MS, { unit: 'ms' }),
    env: 'KOI_NET_SERVER_HEADERS_TIMEOUT_MS',
    flag: { name: 'server-headers-timeout', arg: 'MS', help: ['cut off a client whose request headers take longer'], showDefault: true },
    doc: ['How long the server waits for slow clients, in milliseconds (408 and close after).', 'Request headers:'],
  },
  serverRequestTimeoutMs: {
    yaml: 'server_request_timeout_ms',
    default: DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs,
    codec: int(1, MAX_SERVER_TIMEOUT_MS, { unit: 'ms' }),
    env: 'KOI_NET_SERVER_REQUEST_TIMEOUT_MS',
    flag: { name: 'server-request-timeout', arg: 'MS', help: ['cut off a client whose whole request takes longer'], showDefault: true },
    doc: ['A whole request, headers and body (not the time the node takes to answer):'],
    section: false,
  },
  serverKeepAliveTimeoutMs: {
    yaml: 'server_keep_alive_timeout_ms',
    default: DEFAULT_SERVER_TIMEOUTS.keepAliveTimeoutMs,
    codec: int(1, MAX_SERVER_TIMEOUT_MS, { unit: 'ms' }),
    env: 'KOI_NET_SERVER_KEEP_ALIVE_TIMEOUT_MS',
    flag: { name: 'server-keep-alive-timeout', arg: 'MS', help: ['close idle keep-alive connections after'], showDefault: true },
    doc: ['An idle keep-alive connection between requests:'],
    section: false,
  },
} satisfies { [P in FieldPath]: FieldSpec<ValueAt<P>> };

/** One row of the table, as the loaders walk it. */
export interface Field {
  path: FieldPath;
  group: ConfigGroup | undefined;
  key: string;
  spec: FieldSpec<unknown>;
}

/** The table in declaration order (the template's and --help's order). */
export const FIELD_LIST: readonly Field[] = Object.entries(FIELDS).map(([path, spec]) => {
  const [a, b] = path.split('.') as [string, string | undefined];
  return { path: path as FieldPath, group: b === undefined ? undefined : (a as ConfigGroup), key: b ?? a, spec: spec as FieldSpec<unknown> };
});

/** The file's name for a field: `log.level`, `base_url`. */
export function yamlPath(f: Field): string {
  return f.group ? `${f.group}.${f.spec.yaml}` : f.spec.yaml;
}

type Loose = Record<string, unknown>;

export function getField(c: KoiNetConfig | ConfigOverrides, f: Field): unknown {
  const o = c as Loose;
  return f.group ? (o[f.group] as Loose | undefined)?.[f.key] : o[f.key];
}

export function setField(c: ConfigOverrides, f: Field, value: unknown): void {
  const o = c as Loose;
  if (!f.group) o[f.key] = value;
  else ((o[f.group] ??= {}) as Loose)[f.key] = value;
}

export function defaultConfig(): KoiNetConfig {
  const c: ConfigOverrides = {};
  for (const f of FIELD_LIST) setField(c, f, structuredClone(f.spec.default));
  return c as KoiNetConfig;
}
