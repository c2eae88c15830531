/**
 * Issue 13 item 4: the operator shell (`koi-net network|fetch|broadcast|edge`) as child processes
 * against real nodes started with `koi-net start` (child processes, ports from the OS), once on
 * an unsigned network and once on a signed one, where the shell signs as the node of --data-dir.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { started, stopCli, type CliChild } from '../reliability/cli-child.ts';
import { runCliOnce, startNode } from '../helpers/cli-node.ts';
import { waitFor } from './helpers/wait.ts';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { proposedEdgeBundle } from '../../src/behaviours/edge.ts';
import { EdgeType } from '../../src/protocol/index.ts';

interface Running {
  child: CliChild;
  rid: string;
  url: string;
  dataDir: string;
}

for (const protocol of ['unsigned', 'signed'] as const) {
  describe(`koi-net shell against running ${protocol} nodes`, function () {
    this.timeout(180_000);
    let dir: string;
    const nodes: Running[] = [];
    const env: Record<string, string> = protocol === 'signed' ? { KOI_NET_PRIV_KEY_PASSWORD: 'shell-test' } : {};

    async function start(name: string, extra: string[]): Promise<Running> {
      const dataDir = join(dir, name);
      const child = startNode(['--name', name, '--data-dir', dataDir, '--port', '0', '--protocol', protocol, '--log-level', 'info', ...extra], env);
      const r = await started(child, 60_000);
      const node = { child, rid: String(r.rid), url: String(r.url), dataDir };
      nodes.push(node);
      return node;
    }
    const shell = (args: string[], stdin?: string): Promise<string> => runCliOnce(args, env, 0, stdin);
    const edgesAt = async (n: Running): Promise<{ rid: string; profile: { source: string; target: string; status: string } }[]> =>
      JSON.parse(await shell(['network', 'edges', '--data-dir', n.dataDir, '--json'])) as { rid: string; profile: { source: string; target: string; status: string } }[];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `koi-shell-${protocol}-`));
    });
    after(async () => {
      for (const n of nodes.splice(0).reverse()) await stopCli(n.child);
      await rm(dir, { recursive: true, force: true });
    });

    it('network, fetch and broadcast against a coordinator with a member', async () => {
      const coord = await start('coord', ['--role', 'coordinator', '--provides-event', 'orn:koi-net.node,orn:koi-net.edge', '--provides-state', 'orn:koi-net.node,orn:koi-net.edge']);
      const member = await start('member', ['--first-contact', coord.url, '--first-contact-rid', coord.rid]);
      await waitFor('both edges approved at the coordinator', async () => {
        const edges = await edgesAt(coord);
        return edges.length === 2 && edges.every((e) => e.profile.status === 'APPROVED') ? true : undefined;
      }, { timeoutMs: 60_000, intervalMs: 500 });

      // The table: a header and one line per node.
      const table = await shell(['network', 'nodes', '--data-dir', coord.dataDir]);
      const lines = table.trim().split('\n');
      expect(lines[0]).to.match(/^RID\s+TYPE\s+BASE_URL\s+EVENTS\s+STATE$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).to.have.members([coord.rid, member.rid]);
      const edgeTable = await shell(['network', 'edges', '--data-dir', coord.dataDir]);
      expect(edgeTable.trim().split('\n')).to.have.length(3);
      const row = edgeTable.split('\n').find((l) => l.startsWith(member.rid));
      expect(row?.split(/\s+/).slice(0, 4)).to.deep.equal([member.rid, coord.rid, 'WEBHOOK', 'APPROVED']);

      // Signed: the shell signs as the member (its data dir) when it talks to the coordinator's URL.
      const byUrl = ['--url', coord.url, ...(protocol === 'signed' ? ['--data-dir', member.dataDir, '--target-rid', coord.rid] : [])];
      const rids = JSON.parse(await shell(['fetch', 'rids', ...byUrl, '--rid-types', 'orn:koi-net.node', '--json'])) as { rids: string[] };
      expect(rids.rids).to.have.members([coord.rid, member.rid]);
      const manifests = await shell(['fetch', 'manifests', ...byUrl, '--rids', member.rid]);
      expect(manifests).to.match(new RegExp(`^${member.rid.replace(/[.+]/g, '\\$&')}\\s+\\d{4}-`, 'm'));
      const bundles = JSON.parse(await shell(['fetch', 'bundles', ...byUrl, '--rids', `${member.rid},orn:koi-net.node:nobody+00000000-0000-4000-8000-000000000000`, '--json'])) as {
        bundles: { manifest: { rid: string } }[];
        not_found: string[];
      };
      expect(bundles.bundles.map((b) => b.manifest.rid)).to.deep.equal([member.rid]);
      expect(bundles.not_found).to.have.length(1);

      // broadcast from stdin: an event about a note; the coordinator caches its bundle.
      const note = Bundle.generate('orn:koi-net.note:shell-test', { text: 'hello from the shell' });
      const event = Event.fromBundle(note, EventType.NEW).toJSON();
      const sent = JSON.parse(await shell(['broadcast', '-', ...byUrl, '--json'], JSON.stringify(event))) as { sent: number };
      expect(sent.sent).to.equal(1);
      await waitFor('the broadcast bundle cached at the coordinator', async () => {
        const r = JSON.parse(await shell(['fetch', 'bundles', ...byUrl, '--rids', 'orn:koi-net.note:shell-test', '--json'])) as { bundles: { contents: { text: string } }[] };
        return r.bundles[0]?.contents.text === 'hello from the shell' ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 300 });

      // Bad input: a file that is not an event; exit 2 with a clear message, nothing sent.
      const err = await runCliOnce(['broadcast', '-', ...byUrl], env, 2, '{"not":"an event"}');
      expect(err).to.match(/event 0 is not an event/);
    });

    it('edge propose: a node that joined nobody subscribes to the coordinator; both sides hold it APPROVED', async () => {
      const coord = nodes.find((n) => n.dataDir.endsWith('coord'))!;
      const loner = await start('loner', ['--no-contact']);
      const out = JSON.parse(await shell(['edge', 'propose', '--data-dir', loner.dataDir, '--provider', coord.rid, '--url', coord.url, '--rid-types', 'orn:koi-net.node', '--json'])) as { proposed: string };
      const approvedAt = async (n: Running): Promise<true | undefined> =>
        (await edgesAt(n)).some((e) => e.rid === out.proposed && e.profile.source === coord.rid && e.profile.target === loner.rid && e.profile.status === 'APPROVED') ? true : undefined;
      await waitFor('the edge approved at the coordinator', () => approvedAt(coord), { timeoutMs: 60_000, intervalMs: 500 });
      await waitFor('the approval accepted by the subscriber', () => approvedAt(loner), { timeoutMs: 60_000, intervalMs: 500 });
    });

    it('edge approve: a proposal only the subscriber holds is approved by the provider through the shell', async () => {
      // Two nodes that know each other (no coordinator, which would offer its own edge), and a
      // proposal the provider never received (it was down, say).
      const provider = await start('provider', ['--no-contact', '--provides-event', 'orn:test.note', '--provides-state', 'orn:test.note']);
      const waiting = await start('waiting', ['--no-contact']);
      const as = (n: Running, to: Running): string[] => ['--url', to.url, ...(protocol === 'signed' ? ['--data-dir', n.dataDir, '--target-rid', to.rid] : [])];
      const ownBundle = async (n: Running): Promise<Bundle> =>
        Bundle.fromJSON((JSON.parse(await shell(['fetch', 'bundles', ...as(n, n), '--rids', n.rid, '--json'])) as { bundles: unknown[] }).bundles[0]);
      const newEvents = (bundles: Bundle[]): string => JSON.stringify(bundles.map((b) => Event.fromBundle(b, EventType.NEW).toJSON()));
      const proposal = proposedEdgeBundle(provider.rid, waiting.rid, ['orn:test.note'], EdgeType.WEBHOOK, { context: protocol === 'signed' });
      await shell(['broadcast', '-', ...as(waiting, provider)], newEvents([await ownBundle(waiting)]));
      await shell(['broadcast', '-', ...as(waiting, waiting)], newEvents([await ownBundle(provider), proposal]));
      const statusAt = async (n: Running): Promise<string | undefined> => (await edgesAt(n)).find((e) => e.rid === proposal.rid.toString())?.profile.status;
      await waitFor('the proposal held by the subscriber', async () => ((await statusAt(waiting)) === 'PROPOSED' ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
      await waitFor('the subscriber known to the provider', async () =>
        (JSON.parse(await shell(['network', 'nodes', '--data-dir', provider.dataDir, '--json'])) as { rid: string }[]).some((n) => n.rid === waiting.rid) ? true : undefined,
      { timeoutMs: 30_000, intervalMs: 300 });
      expect(await statusAt(provider)).to.equal(undefined);

      const approve = (n: Running): string[] => ['edge', 'approve', '--data-dir', n.dataDir, '--edge', proposal.rid.toString(), '--url', waiting.url, ...(protocol === 'signed' ? ['--target-rid', waiting.rid] : [])];
      // Bad input first: only the edge's source approves; the subscriber's own data dir is refused.
      expect(await runCliOnce(approve(waiting), env, 2)).to.match(/only the edge's source/);
      expect(await statusAt(provider)).to.equal(undefined);

      const out = JSON.parse(await shell([...approve(provider), '--json'])) as { approving: string };
      expect(out.approving).to.equal(proposal.rid.toString());
      await waitFor('the edge approved at the provider', async () => ((await statusAt(provider)) === 'APPROVED' ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
      await waitFor('the approval accepted by the subscriber', async () => ((await statusAt(waiting)) === 'APPROVED' ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    });
  });
}
