/**
 * Measures the issue-10 scenario: a node starts while its first contact is down; the contact comes
 * up DELAY ms later (default 15000, as in the issue). Prints, for a partial and a full node with the
 * default retry settings (backoff cap 30 s), the time from the contact's "node started" to the
 * node's successful handshake and to its first approved edge with the contact.
 *
 *   npx tsx scripts/reliability/join-late-contact.ts [--delay 15000] [--cap 30000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fetchEdges, nodeStatus } from '../../test/integration/helpers/api.ts';
import { candidatePort as freePort } from '../../test/helpers/ports.ts';
import { waitFor } from '../../test/integration/helpers/wait.ts';
import { startCli, started, stopCli, type CliChild } from '../../test/reliability/cli-child.ts';

const { values } = parseArgs({ options: { delay: { type: 'string', default: '15000' }, cap: { type: 'string' } } });
const delayMs = Number(values.delay);

async function run(type: 'partial' | 'full'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'koi-join-measure-'));
  const kids: CliChild[] = [];
  try {
    const contactPort = await freePort();
    const contactUrl = `http://127.0.0.1:${contactPort}/koi-net`;
    const nodeDir = join(dir, 'node');
    const node = startCli([
      '--name', `late-${type}`, '--type', type, '--host', '127.0.0.1', '--data-dir', nodeDir, '--first-contact', contactUrl,
      ...(values.cap ? ['--first-contact-retry-max', values.cap] : []),
      ...(type === 'full' ? ['--port', String(await freePort())] : []),
    ]);
    kids.push(node);
    const nodeUp = await started(node);
    await new Promise((r) => setTimeout(r, delayMs));
    const contact = startCli(['--name', 'contact', '--type', 'full', '--role', 'coordinator', '--host', '127.0.0.1', '--port', String(contactPort), '--data-dir', join(dir, 'contact')]);
    kids.push(contact);
    const contactUp = await started(contact);
    const upAt = Number(contactUp.time);
    const nodeRid = String(nodeUp.rid);
    const contactRid = String(contactUp.rid);
    const introduced = await waitFor('handshake', () => node.records().find((r) => r.msg === 'introduced this node to its first contact'), { timeoutMs: 120_000, intervalMs: 50 });
    const joinedAt = await waitFor(
      'approved edge',
      async () => {
        const edges = type === 'full' ? await fetchEdges(String(nodeUp.url)) : (await nodeStatus(nodeDir)).edges;
        return edges.some((e) => e.status === 'APPROVED' && (e.source === contactRid || e.target === contactRid) && (e.source === nodeRid || e.target === nodeRid)) ? Date.now() : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    const attempts = node.records().filter((r) => r.msg === 'first contact handshake attempt').length;
    console.log(
      JSON.stringify({ type, contactDownForMs: delayMs, attempts, handshakeAfterContactUpMs: Number(introduced.time) - upAt, joinedAfterContactUpMs: joinedAt - upAt }),
    );
  } finally {
    await Promise.all(kids.map(stopCli));
    await rm(dir, { recursive: true, force: true });
  }
}

await run('partial');
await run('full');
process.exit(0);
