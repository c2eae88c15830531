/**
 * Issue 13 item 1: a `koi-net start --protocol both` node bridging an unsigned (koi-net 1.0.x wire)
 * and a signed (2.x wire) network, all real CLI processes on 127.0.0.1 with ports from the OS. The
 * bridge is the coordinator; an unsigned full and partial node join it with plain bodies (no
 * first-contact RID), a signed full and partial node with envelopes (first-contact RID given).
 * Knowledge crosses both ways: a note broadcast into the unsigned full node reaches the signed
 * nodes through the bridge (envelopes), one broadcast into the signed full node reaches the
 * unsigned ones (plain bodies), each with the manifest it was broadcast with; the partials poll
 * the bridge in their own formats. The unsigned nodes' profiles are never pushed to signed peers
 * (PROTOCOL.md section 9), which the bridge logs. The shell, given the bridge's data dir, calls
 * each side in its format too.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { started, stopCli, type CliChild } from '../reliability/cli-child.ts';
import { runCliOnce, startNode } from '../helpers/cli-node.ts';
import { waitFor } from './helpers/wait.ts';
import { Bundle, Event, EventType, type JsonObject } from '../../src/knowledge/index.ts';
import { KoiNetNode } from '../../src/rid/index.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { NodeKeyPair, openEnvelope, signEnvelope } from '../../src/secure/index.ts';
import { cacheFileName } from '../../src/cache/index.ts';
import { rawPost } from '../security/helpers.ts';

const NOTE = 'orn:test.note';

interface Running {
  child: CliChild;
  rid: string;
  url: string;
  dataDir: string;
}

interface WireBundle {
  manifest: { rid: string; timestamp: string; sha256_hash: string };
  contents: JsonObject;
}

/** `contentType: false` sends none at all, as koi-net 1.0.0b6 / 1.0.x clients post. */
async function post(url: string, body: string, contentType = true): Promise<{ status: number; text: string }> {
  const res = await rawPost(url, body, contentType ? 'application/json' : null);
  return { status: res.status, text: res.text };
}

describe('integration: a both node bridges an unsigned and a signed network (real processes)', function () {
  this.timeout(120_000);
  let dir: string;
  const nodes: Running[] = [];
  // The test's own signed client, introduced to the signed full node to broadcast and fetch there.
  const tester = NodeKeyPair.generate();
  const testerRid = tester.nodeRid('tester');
  const testerBundle = Bundle.generate(testerRid, { node_type: NodeType.PARTIAL, base_url: null, provides: { event: [], state: [] }, public_key: tester.publicKeyDerB64 });

  async function start(name: string, args: string[]): Promise<Running> {
    const dataDir = join(dir, name);
    const child = startNode(['--name', name, '--data-dir', dataDir, '--port', '0', '--log-level', 'info', ...args]);
    nodes.push({ child, rid: '', url: '', dataDir });
    const r = await started(child, 60_000);
    const node = nodes.find((n) => n.child === child)!;
    node.rid = String(r.rid);
    node.url = String(r.url ?? '');
    return node;
  }

  /** The bundle a node holds on disk (partial nodes have no server to ask). */
  async function onDisk(n: Running, rid: string): Promise<WireBundle | undefined> {
    try {
      return JSON.parse(await readFile(join(n.dataDir, 'cache', cacheFileName(rid)), 'utf8')) as WireBundle;
    } catch {
      return undefined;
    }
  }

  async function plainFetch(n: Running, rid: string): Promise<WireBundle | undefined> {
    const res = await post(`${n.url}/bundles/fetch`, JSON.stringify({ rids: [rid] }));
    return res.status === 200 ? (JSON.parse(res.text) as { bundles: WireBundle[] }).bundles[0] : undefined;
  }

  async function signedFetch(n: Running, rid: string): Promise<WireBundle | undefined> {
    const target = KoiNetNode.of(n.rid);
    const res = await post(`${n.url}/bundles/fetch`, signEnvelope({ type: 'fetch_bundles', rids: [rid] }, { sourceNode: testerRid, targetNode: target, keyPair: tester }));
    if (res.status !== 200) return undefined;
    const publicKeyDerB64 = String(JSON.parse(await readFile(join(n.dataDir, 'identity.json'), 'utf8')).profile.public_key);
    const env = openEnvelope(res.text, { self: testerRid, lookup: () => ({ known: true, publicKeyDerB64 }), allowSelfIntroduction: false });
    return (env.payload as unknown as { bundles: WireBundle[] }).bundles[0];
  }

  /** Edges the bridge holds APPROVED, as `source target` lines (asked in a plain body: it answers those too). */
  async function approvedAtBridge(bridge: Running): Promise<string[]> {
    const rids = JSON.parse((await post(`${bridge.url}/rids/fetch`, JSON.stringify({ rid_types: ['orn:koi-net.edge'] }))).text) as { rids: string[] };
    if (rids.rids.length === 0) return [];
    const bundles = JSON.parse((await post(`${bridge.url}/bundles/fetch`, JSON.stringify({ rids: rids.rids }))).text) as { bundles: WireBundle[] };
    return bundles.bundles.filter((b) => b.contents['status'] === 'APPROVED').map((b) => `${String(b.contents['source'])} ${String(b.contents['target'])}`);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-bridge-'));
  });
  after(async () => {
    for (const n of nodes.splice(0).reverse()) await stopCli(n.child);
    await rm(dir, { recursive: true, force: true });
  });

  it('knowledge crosses both ways; partials poll in their own formats; unsigned profiles are withheld from signed peers', async () => {
    const notes = ['--provides-event', NOTE, '--provides-state', NOTE, '--contact-rid-type', NOTE];
    const bridge = await start('bridge', ['--protocol', 'both', '--role', 'coordinator', ...notes, '--log-level', 'debug']);
    const bridgeIdentity = JSON.parse(await readFile(join(bridge.dataDir, 'identity.json'), 'utf8')) as { profile: { public_key?: string } };
    expect(bridgeIdentity.profile.public_key).to.be.a('string');
    const signedContact = ['--first-contact', bridge.url, '--first-contact-rid', bridge.rid];
    // The signed side first, so its subscriptions exist when the unsigned nodes announce themselves.
    const [signedFull, signedPartial] = await Promise.all([
      start('signed-full', ['--protocol', 'signed', ...notes, ...signedContact]),
      start('signed-partial', ['--protocol', 'signed', '--type', 'partial', '--contact-rid-type', NOTE, ...signedContact]),
    ]);
    await waitFor('the signed nodes subscribed to the bridge and the bridge to the signed full node', async () => {
      const edges = await approvedAtBridge(bridge);
      const want = [`${bridge.rid} ${signedFull.rid}`, `${signedFull.rid} ${bridge.rid}`, `${bridge.rid} ${signedPartial.rid}`];
      return want.every((e) => edges.includes(e)) ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    const [unsignedFull, unsignedPartial] = await Promise.all([
      start('unsigned-full', ['--protocol', 'unsigned', ...notes, '--first-contact', bridge.url]),
      start('unsigned-partial', ['--protocol', 'unsigned', '--type', 'partial', '--contact-rid-type', NOTE, '--first-contact', bridge.url]),
    ]);
    await waitFor('the unsigned nodes subscribed to the bridge and the bridge to the unsigned full node', async () => {
      const edges = await approvedAtBridge(bridge);
      const want = [`${bridge.rid} ${unsignedFull.rid}`, `${unsignedFull.rid} ${bridge.rid}`, `${bridge.rid} ${unsignedPartial.rid}`];
      return want.every((e) => edges.includes(e)) ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });

    // Unsigned -> signed: a 1.0.x client broadcasts a note into the unsigned full node (no Content-Type, as the seed).
    const fromOld = Bundle.generate(`${NOTE}:from-unsigned`, { text: 'written on the 1.0 side' });
    expect((await post(`${unsignedFull.url}/events/broadcast`, JSON.stringify({ events: [Event.fromBundle(fromOld, EventType.NEW).toJSON()] }), false)).status).to.equal(200);

    // Signed -> unsigned: the tester introduces itself to the signed full node and broadcasts a note in the same envelope.
    const fromNew = Bundle.generate(`${NOTE}:from-signed`, { text: 'written on the 2.x side', n: 1.5 });
    const envelope = signEnvelope(
      { type: 'events_payload', events: [Event.fromBundle(testerBundle, EventType.NEW).toJSON(), Event.fromBundle(fromNew, EventType.NEW).toJSON()] } as never,
      { sourceNode: testerRid, targetNode: KoiNetNode.of(signedFull.rid), keyPair: tester },
    );
    const sent = await post(`${signedFull.url}/events/broadcast`, envelope);
    expect(sent.status, sent.text).to.equal(200);

    const hashOf = (b: WireBundle | undefined): string | undefined => b?.manifest.sha256_hash;
    const wait = (what: string, probe: () => Promise<WireBundle | undefined>, want: Bundle): Promise<true> =>
      waitFor(what, async () => (hashOf(await probe()) === want.manifest.sha256Hash ? true : undefined), { timeoutMs: 45_000, intervalMs: 300 });
    await Promise.all([
      wait('the unsigned note at the bridge', () => plainFetch(bridge, String(fromOld.rid)), fromOld),
      wait('the unsigned note at the signed full node', () => signedFetch(signedFull, String(fromOld.rid)), fromOld),
      wait('the unsigned note at the signed partial node', () => onDisk(signedPartial, String(fromOld.rid)), fromOld),
      wait('the signed note at the unsigned full node', () => plainFetch(unsignedFull, String(fromNew.rid)), fromNew),
      wait('the signed note at the unsigned partial node', () => onDisk(unsignedPartial, String(fromNew.rid)), fromNew),
      wait('the unsigned note at the unsigned partial node', () => onDisk(unsignedPartial, String(fromOld.rid)), fromOld),
    ]);
    // Same manifest (rid, timestamp, hash) everywhere, contents byte-equal once parsed.
    const atSigned = (await signedFetch(signedFull, String(fromOld.rid)))!;
    expect(atSigned).to.deep.equal(fromOld.toJSON());
    const atUnsigned = (await plainFetch(unsignedFull, String(fromNew.rid)))!;
    expect(atUnsigned.manifest).to.deep.equal(fromNew.toJSON().manifest);

    // PROTOCOL.md section 9: the bridge announced the unsigned nodes to the signed ones never as events.
    const withheld = bridge.child.records().filter((r) => r['msg'] === 'event withheld from a signed peer');
    const pairs = new Set(withheld.map((r) => `${String(r['rid'])} -> ${String(r['node'])}`));
    expect(pairs.has(`${unsignedFull.rid} -> ${signedFull.rid}`), [...pairs].join('\n')).to.equal(true);
    const delivered = bridge.child.records().filter((r) => r['msg'] === 'queued event' && String(r['node']) === signedFull.rid);
    expect(delivered.filter((r) => r['rid'] === unsignedFull.rid || r['rid'] === unsignedPartial.rid).map((r) => r['eventType'])).to.not.include.members(['NEW', 'UPDATE']);
    // While the unsigned nodes did hear of the signed ones (1.0.x nodes keep profiles with a public_key).
    await waitFor('the signed full node known at the unsigned partial', async () => ((await onDisk(unsignedPartial, signedFull.rid)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });

    // The shell, as the bridge (its data dir), talks to each side in that side's format.
    for (const side of [unsignedFull, signedFull]) {
      const out = JSON.parse(await runCliOnce(['fetch', 'bundles', '--data-dir', bridge.dataDir, '--url', side.url, '--rids', String(fromOld.rid), '--json'])) as { bundles: WireBundle[] };
      expect(out.bundles.map((b) => b.manifest.sha256_hash), side.url).to.deep.equal([fromOld.manifest.sha256Hash]);
    }
  });
});
