/** `koi-net status` reads the node's state through the node's own modules, and changes nothing. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { readNodeStatus } from '../../../src/cli/status.ts';
import { NodeIdentity } from '../../../src/identity/index.ts';
import { Event } from '../../../src/knowledge/index.ts';
import { EventQueues } from '../../../src/queues/index.ts';
import { NodeType, type NodeProfile } from '../../../src/protocol/index.ts';

const PEER = 'orn:koi-net.node:peer+00000000-0000-4000-8000-000000000001';
const OTHER = 'orn:koi-net.node:other+00000000-0000-4000-8000-000000000002';
const ev = (i: number): Event => Event.fromRid(`orn:test.item:${i}`, 'NEW');

/** Every file's bytes, to prove a read left the directory as it was. */
async function contents(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)));
}

describe('cli/status: readNodeStatus', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-status-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts queued events that are only in the journal (the node crashed before folding them in)', async () => {
    const file = join(dir, 'event_queues.json');
    // A snapshot with one event, then more events appended to the journal only; the instance is
    // abandoned as if the node died (close() would fold the journal into the snapshot).
    const first = await EventQueues.open(file, { idleCompactMs: 0 });
    await first.pushWebhook(PEER, ev(1));
    await first.close();
    const crashed = await EventQueues.open(file, { idleCompactMs: 0 });
    await crashed.pushWebhook(PEER, ev(2));
    await crashed.pushWebhook(PEER, ev(3));
    await crashed.pushPoll(OTHER, ev(4));
    await crashed.flushed();

    const names = await readdir(dir);
    expect(names.some((n) => /\.journal-\d+$/.test(n)), 'a journal holds the later events').to.equal(true);
    const snapshot = JSON.parse(await readFile(file, 'utf8')) as unknown;
    expect(JSON.stringify(snapshot)).not.to.include('orn:test.item:2');

    const before = await contents(dir);
    const status = await readNodeStatus(dir);
    expect(status.queues.webhook).to.deep.equal({ [PEER]: 3 });
    expect(status.queues.poll).to.deep.equal({ [OTHER]: 1 });
    expect(await contents(dir), 'status writes nothing in the node directory').to.deep.equal(before);
  });

  it('reads the identity through the identity module and refuses a broken one', async () => {
    const profile = { node_type: NodeType.FULL, base_url: 'http://127.0.0.1:1/koi-net', provides: { event: [], state: [] } } as NodeProfile;
    const identity = await NodeIdentity.load({ name: 'st', profile, filePath: join(dir, 'identity.json') });
    const status = await readNodeStatus(dir);
    expect(status.identity?.rid).to.equal(String(identity.rid));
    expect(status.identity?.profile.base_url).to.equal(profile.base_url);
    expect(status.queues).to.deep.equal({ webhook: {}, poll: {}, webhook_inflight: {} });

    await writeFile(join(dir, 'identity.json'), JSON.stringify({ rid: 'orn:test.item:1', profile }));
    const err = await readNodeStatus(dir).then(() => undefined, (e: unknown) => e);
    expect(String(err)).to.match(/not an orn:koi-net.node RID/);
  });
});
