/**
 * The operator shell (issue 13 item 4): look at and act on a running node from the command line,
 * as koi-net's koi-sh does. `--url` names the node's KOI-net API; `--data-dir` names a node
 * directory, whose URL is used when no --url is given and as whose node the shell signs when the
 * node speaks the signed protocol (its priv_key.pem, KOI_NET_PRIV_KEY_PASSWORD). Requests go
 * through the library's own client (RequestHandler): same validation, same signing.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Bundle, Event, EventType, type EventWire } from '../knowledge/index.ts';
import { RequestHandler } from '../network/index.ts';
import { bridgePeerFormat } from '../peer/index.ts';
import { EdgeStatus, EdgeType, parseEdgeProfile, parseNodeProfile, type EdgeProfile, type NodeProfile } from '../protocol/index.ts';
import { KoiNetEdge, KoiNetNode, RID } from '../rid/index.ts';
import { NodeKeyPair } from '../secure/index.ts';
import { cacheFileName } from '../cache/file-name.ts';
import { proposedEdgeBundle } from '../behaviours/edge.ts';
import { errorText } from '../util/error-text.ts';

export const SHELL_COMMANDS: readonly string[] = ['network', 'fetch', 'broadcast', 'edge'];

const OPTIONS = {
  url: { type: 'string' },
  'data-dir': { type: 'string' },
  'target-rid': { type: 'string' },
  json: { type: 'boolean' },
  'rid-types': { type: 'string', multiple: true },
  rids: { type: 'string', multiple: true },
  provider: { type: 'string' },
  edge: { type: 'string' },
  'edge-type': { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SHELL_HELP = `Usage (against a running node; --url URL or --data-dir DIR to find it, --json for scripts):
  koi-net network nodes|edges                       the nodes / edges the node knows, as a table
  koi-net fetch rids [--rid-types T,..]             RIDs the node holds
  koi-net fetch manifests [--rid-types T,..] [--rids R,..]
  koi-net fetch bundles --rids R,..
  koi-net broadcast [FILE | -]                      send events (an event, a list, or {"events": [...]})
  koi-net edge propose --data-dir DIR --provider RID [--url PROVIDER_URL] [--rid-types T,..] [--edge-type WEBHOOK|POLL]
                                                    DIR's running node subscribes to the provider's events
  koi-net edge approve --data-dir DIR --edge RID --url SUBSCRIBER_URL
                                                    DIR's running node (the edge's source) approves a
                                                    proposal the subscriber holds
Signed nodes: the shell signs as the node of --data-dir (its priv_key.pem, KOI_NET_PRIV_KEY_PASSWORD);
with --url to another node, pass --target-rid RID unless DIR's cache knows the node at that URL.
`;

class ShellUsageError extends Error {}

type Flags = ReturnType<typeof parse>['values'];
function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** The node the shell talks to, and the node it speaks as. */
export interface ShellSession {
  url: string;
  /** The target's RID when known (needed to sign). */
  targetRid: KoiNetNode | undefined;
  /** The node of --data-dir, when given. */
  self: { rid: KoiNetNode; profile: NodeProfile; keyPair: NodeKeyPair | undefined; dataDir: string } | undefined;
  requests: RequestHandler;
}

async function readJsonFile(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/** A bundle from a node directory's cache files, read only (a running node owns the directory). */
async function cachedBundle(dataDir: string, rid: RID | string): Promise<Bundle | undefined> {
  try {
    return Bundle.fromJSON(await readJsonFile(join(dataDir, 'cache', cacheFileName(rid))));
  } catch {
    return undefined;
  }
}

async function nodeAtUrl(dataDir: string, url: string): Promise<KoiNetNode | undefined> {
  const { readdir } = await import('node:fs/promises');
  let names: string[];
  try {
    names = await readdir(join(dataDir, 'cache'));
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const b = Bundle.fromJSON(await readJsonFile(join(dataDir, 'cache', name)));
      if (b.rid instanceof KoiNetNode && parseNodeProfile(b.contents).base_url === url) return b.rid;
    } catch {
      // not a node bundle
    }
  }
  return undefined;
}

export async function openShellSession(flags: { url?: string | undefined; dataDir?: string | undefined; targetRid?: string | undefined; timeoutMs?: number }): Promise<ShellSession> {
  let self: ShellSession['self'];
  if (flags.dataDir) {
    const dataDir = resolve(flags.dataDir);
    let identity: { rid?: unknown; profile?: unknown };
    try {
      identity = (await readJsonFile(join(dataDir, 'identity.json'))) as typeof identity;
    } catch (err) {
      throw new ShellUsageError(`${dataDir} has no readable identity.json (${errorText(err)}); is it a node directory?`);
    }
    const rid = KoiNetNode.of(String(identity.rid));
    const profile = parseNodeProfile(identity.profile);
    let keyPair: NodeKeyPair | undefined;
    if (typeof profile.public_key === 'string') {
      const pem = await readFile(join(dataDir, 'priv_key.pem'), 'utf8');
      try {
        keyPair = NodeKeyPair.fromPkcs8Pem(pem, process.env.KOI_NET_PRIV_KEY_PASSWORD || undefined);
      } catch {
        throw new ShellUsageError(`${join(dataDir, 'priv_key.pem')} does not open: set KOI_NET_PRIV_KEY_PASSWORD to the node's password`);
      }
    }
    self = { rid, profile, keyPair, dataDir };
  }
  const url = flags.url ?? self?.profile.base_url ?? undefined;
  if (!url) throw new ShellUsageError(self ? `${self.dataDir} is a partial node (no URL); give --url of a full node` : 'give --url URL or --data-dir DIR of a running node');
  let targetRid: KoiNetNode | undefined;
  if (flags.targetRid) targetRid = KoiNetNode.of(flags.targetRid);
  else if (self && url === self.profile.base_url) targetRid = self.rid;
  else if (self) targetRid = await nodeAtUrl(self.dataDir, url);

  const profiles = new Map<string, NodeProfile>();
  if (self) profiles.set(self.rid.toString(), self.profile);
  const urlNodes = new Map(targetRid ? [[url, targetRid]] : []);
  const requests = new RequestHandler({
    graph: {
      getNodeProfile: async (rid) => {
        const known = profiles.get(rid.toString());
        if (known || !self) return known;
        const b = await cachedBundle(self.dataDir, rid);
        return b ? parseNodeProfile(b.contents) : undefined;
      },
    },
    timeoutMs: flags.timeoutMs,
    signed: self?.keyPair ? { keyPair: self.keyPair, self: self.rid, urlNodes } : undefined,
    // Signed when the target is: a node the data dir caches without a public_key (a bridge's
    // unsigned peer) is called plainly; a signed node's cache holds no such profile.
    peerFormat: self?.keyPair ? bridgePeerFormat(urlNodes) : undefined,
  });
  if (self?.keyPair && !targetRid) throw new ShellUsageError(`signed requests name their target node: pass --target-rid for ${url}`);
  return { url, targetRid, self, requests };
}

const target = (s: ShellSession) => ({ url: s.url, ...(s.targetRid ? { node: s.targetRid } : {}) });

/** `--rids a,b --rids c` = [a, b, c]. */
const list = (values: string[] | undefined): string[] | undefined =>
  values === undefined ? undefined : values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Node and edge profiles the node holds, fetched from it (rids, then bundles). */
export async function fetchGraph(s: ShellSession): Promise<{ nodes: { rid: string; profile: NodeProfile }[]; edges: { rid: string; profile: EdgeProfile }[] }> {
  const { rids } = await s.requests.fetchRids(target(s), { rid_types: ['orn:koi-net.node', 'orn:koi-net.edge'] });
  const { bundles } = rids.length > 0 ? await s.requests.fetchBundles(target(s), { rids }) : { bundles: [] as Bundle[] };
  const nodes: { rid: string; profile: NodeProfile }[] = [];
  const edges: { rid: string; profile: EdgeProfile }[] = [];
  for (const b of bundles) {
    try {
      if (b.rid instanceof KoiNetNode) nodes.push({ rid: b.rid.toString(), profile: parseNodeProfile(b.contents) });
      else if (b.rid instanceof KoiNetEdge) edges.push({ rid: b.rid.toString(), profile: parseEdgeProfile(b.contents) });
    } catch {
      // a malformed profile is not shown
    }
  }
  nodes.sort((a, b) => a.rid.localeCompare(b.rid));
  edges.sort((a, b) => a.rid.localeCompare(b.rid));
  return { nodes, edges };
}

async function cmdNetwork(s: ShellSession, what: string | undefined, json: boolean): Promise<string> {
  if (what !== 'nodes' && what !== 'edges') throw new ShellUsageError('koi-net network nodes|edges');
  const g = await fetchGraph(s);
  if (what === 'nodes') {
    if (json) return JSON.stringify(g.nodes) + '\n';
    return table(
      ['RID', 'TYPE', 'BASE_URL', 'EVENTS', 'STATE'],
      g.nodes.map((n) => [n.rid, n.profile.node_type, n.profile.base_url ?? '-', n.profile.provides.event.join(',') || '-', n.profile.provides.state.join(',') || '-']),
    );
  }
  if (json) return JSON.stringify(g.edges) + '\n';
  return table(
    ['SOURCE', 'TARGET', 'TYPE', 'STATUS', 'RID_TYPES'],
    g.edges.map((e) => [e.profile.source, e.profile.target, e.profile.edge_type, e.profile.status, e.profile.rid_types.join(',')]),
  );
}

async function cmdFetch(s: ShellSession, what: string | undefined, flags: Flags): Promise<string> {
  const ridTypes = list(flags['rid-types']);
  const rids = list(flags.rids);
  const json = flags.json === true;
  switch (what) {
    case 'rids': {
      const r = await s.requests.fetchRids(target(s), ridTypes ? { rid_types: ridTypes } : {});
      const out = r.rids.map(String);
      return json ? JSON.stringify({ rids: out }) + '\n' : out.map((x) => `${x}\n`).join('');
    }
    case 'manifests': {
      const r = await s.requests.fetchManifests(target(s), { ...(ridTypes ? { rid_types: ridTypes } : {}), ...(rids ? { rids } : {}) });
      if (json) return JSON.stringify({ manifests: r.manifests.map((m) => m.toJSON()), not_found: r.notFound.map(String) }) + '\n';
      return table(['RID', 'TIMESTAMP', 'SHA256'], r.manifests.map((m) => [m.rid.toString(), m.toJSON().timestamp, m.sha256Hash])) +
        r.notFound.map((x) => `not found: ${String(x)}\n`).join('');
    }
    case 'bundles': {
      if (!rids || rids.length === 0) throw new ShellUsageError('koi-net fetch bundles needs --rids');
      const r = await s.requests.fetchBundles(target(s), { rids });
      const body = { bundles: r.bundles.map((b) => b.toJSON()), not_found: r.notFound.map(String), deferred: r.deferred.map(String) };
      return JSON.stringify(body, null, json ? undefined : 2) + '\n';
    }
    default:
      throw new ShellUsageError('koi-net fetch rids|manifests|bundles');
  }
}

/** An event, a list of events, or `{"events": [...]}`. */
export function eventsFromJson(value: unknown): Event[] {
  const raw = Array.isArray(value) ? value : typeof value === 'object' && value !== null && Array.isArray((value as { events?: unknown }).events) ? (value as { events: unknown[] }).events : [value];
  if (raw.length === 0) throw new ShellUsageError('no events to broadcast');
  return raw.map((e, i) => {
    try {
      return Event.fromJSON(e);
    } catch (err) {
      throw new ShellUsageError(`event ${i} is not an event: ${errorText(err)}`);
    }
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function cmdBroadcast(s: ShellSession, file: string | undefined, json: boolean): Promise<string> {
  const text = file === undefined || file === '-' ? await readStdin() : await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ShellUsageError(`${file ?? 'stdin'} is not JSON`);
  }
  const events = eventsFromJson(value);
  await s.requests.broadcastEvents(target(s), { events: events.map((e) => e.toJSON() as EventWire) });
  return json ? JSON.stringify({ sent: events.length }) + '\n' : `sent ${events.length} event(s) to ${s.url}\n`;
}

/** Events of `bundles` as NEW, sent to `to` as the node of --data-dir (signed when it is). */
async function sendBundles(s: ShellSession, to: { url: string; node: KoiNetNode }, bundles: Bundle[]): Promise<void> {
  const events = bundles.map((b) => Event.fromBundle(b, EventType.NEW).toJSON() as EventWire);
  await s.requests.broadcastEvents(to, { events });
}

/** The data-dir node's own bundle as it serves it (what peers must cache to reach it). */
async function ownBundle(me: NonNullable<ShellSession['self']>): Promise<Bundle> {
  return (await cachedBundle(me.dataDir, me.rid)) ?? Bundle.generate(me.rid, me.profile as unknown as Record<string, unknown>);
}

async function cmdEdge(s: ShellSession, what: string | undefined, flags: Flags): Promise<string> {
  if (!s.self) throw new ShellUsageError('koi-net edge needs --data-dir of the running node that proposes or approves');
  const me = s.self;
  if (!me.profile.base_url) throw new ShellUsageError(`${me.dataDir} is a partial node: its edges are negotiated by the node itself`);
  const self = { url: me.profile.base_url, node: me.rid };
  const context = Object.hasOwn(me.profile, '@context');
  if (what === 'propose') {
    if (!flags.provider) throw new ShellUsageError('koi-net edge propose needs --provider RID');
    const provider = KoiNetNode.of(flags.provider);
    const providerUrl = flags.url ?? (await cachedBundle(me.dataDir, provider).then((b) => (b ? parseNodeProfile(b.contents).base_url : undefined)));
    if (!providerUrl) throw new ShellUsageError(`${me.dataDir} does not know where ${provider.toString()} is: pass --url of the provider`);
    const edgeType = (flags['edge-type'] ?? 'WEBHOOK').toUpperCase();
    if (edgeType !== EdgeType.WEBHOOK && edgeType !== EdgeType.POLL) throw new ShellUsageError('--edge-type must be WEBHOOK or POLL');
    const bundle = proposedEdgeBundle(provider, me.rid, list(flags['rid-types']) ?? ['orn:koi-net.node'], edgeType, { context });
    // The node records its own proposal first: it accepts the approval only as the answer to one.
    await sendBundles(s, self, [bundle]);
    await sendBundles(s, { url: providerUrl, node: provider }, [await ownBundle(me), bundle]);
    const out = { proposed: bundle.rid.toString(), source: provider.toString(), target: me.rid.toString(), rid_types: parseEdgeProfile(bundle.contents).rid_types };
    return flags.json ? JSON.stringify(out) + '\n' : `proposed ${out.proposed}: ${out.source} -> ${out.target} [${out.rid_types.join(', ')}]\n`;
  }
  if (what === 'approve') {
    if (!flags.edge) throw new ShellUsageError('koi-net edge approve needs --edge RID');
    if (!flags.url) throw new ShellUsageError('koi-net edge approve needs --url of the subscriber that proposed the edge');
    // The proposal as the subscriber holds it, and the subscriber's own bundle.
    const { bundles } = await s.requests.fetchBundles(target(s), { rids: [flags.edge] });
    const proposal = bundles[0];
    if (!proposal) throw new ShellUsageError(`${s.url} holds no edge ${flags.edge}`);
    const profile = parseEdgeProfile(proposal.contents);
    if (profile.source !== me.rid.toString()) throw new ShellUsageError(`only the edge's source (${profile.source}) approves it; --data-dir is ${me.rid.toString()}`);
    if (profile.status !== EdgeStatus.PROPOSED) throw new ShellUsageError(`${flags.edge} is ${profile.status}, not PROPOSED`);
    const subscriber = (await s.requests.fetchBundles(target(s), { rids: [profile.target] })).bundles[0];
    // Handed to the source node itself, whose own negotiation approves it and answers the subscriber.
    await sendBundles(s, self, [...(subscriber ? [subscriber] : []), proposal]);
    return flags.json ? JSON.stringify({ approving: proposal.rid.toString() }) + '\n' : `handed ${proposal.rid.toString()} to ${me.rid.toString()} for approval\n`;
  }
  throw new ShellUsageError('koi-net edge propose|approve');
}

/** `koi-net network|fetch|broadcast|edge ...`; resolves to the exit code. */
export async function runShell(command: string, argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`koi-net ${command}: ${errorText(err).split(/(?<=\.) /)[0]}\n${SHELL_HELP}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    process.stdout.write(SHELL_HELP);
    return 0;
  }
  try {
    const timeout = flags['timeout-ms'] === undefined ? undefined : Number(flags['timeout-ms']);
    // edge propose talks to the provider, whose RID it is given.
    const targetRid = flags['target-rid'] ?? (command === 'edge' && positionals[0] === 'propose' ? flags.provider : undefined);
    const s = await openShellSession({ url: flags.url, dataDir: flags['data-dir'], targetRid, ...(timeout ? { timeoutMs: timeout } : {}) });
    const sub = positionals[0];
    let out: string;
    if (command === 'network') out = await cmdNetwork(s, sub, flags.json === true);
    else if (command === 'fetch') out = await cmdFetch(s, sub, flags);
    else if (command === 'broadcast') out = await cmdBroadcast(s, sub, flags.json === true);
    else out = await cmdEdge(s, sub, flags);
    process.stdout.write(out);
    return 0;
  } catch (err) {
    const usage = err instanceof ShellUsageError;
    process.stderr.write(`koi-net ${command}: ${errorText(err)}${usage ? `\n${SHELL_HELP}` : ''}\n`);
    return usage ? 2 : 1;
  }
}
