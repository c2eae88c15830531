/**
 * The first-contact retry in one process: a node pointed at a closed port on 127.0.0.1 keeps
 * retrying with growing, capped, jittered delays and logs each attempt; finalize() stops it; bad
 * retry options are refused at construction.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeInterface } from '../../../src/node.ts';
import { NodeType } from '../../../src/protocol/index.ts';
import { collectingLogger, type LogLine } from '../../helpers/logger.ts';
import { holdRefusingPort } from '../../helpers/ports.ts';

describe('node: first-contact handshake retry', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-fc-'));
  });
  const held: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(held.splice(0).map((h) => h.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('retries with exponential, capped, jittered delays, logging each attempt, until finalize', async () => {
    const lines: LogLine[] = [];
    // Refuses connections, and nobody else can take it while the test holds it.
    const contact = await holdRefusingPort();
    held.push(contact);
    const node = new NodeInterface({
      name: 'lonely',
      dataDir: dir,
      profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      firstContact: contact.url,
      firstContactRetry: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0.2 },
      inbox: false,
      logger: collectingLogger(lines),
    });
    await node.initialize();
    await new Promise((r) => setTimeout(r, 2_500));
    await node.finalize();
    const attempts = lines.filter((l) => l.msg === 'first contact handshake attempt');
    const failures = lines.filter((l) => l.msg === 'first contact unreachable; retrying with backoff');
    expect(attempts.length).to.be.at.least(5);
    expect(failures.length).to.equal(attempts.length);
    expect(attempts.map((a) => a.obj.attempt)).to.deep.equal(attempts.map((_, i) => i + 1));
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
    // 100, 200, 400, 400...: each gap at least 80% of its nominal delay (jitter), never above the cap
    // by more than scheduling slack on a loaded machine.
    const nominal = gaps.map((_, i) => Math.min(100 * 2 ** i, 400));
    gaps.forEach((g, i) => expect(g, `gap ${i}`).to.be.at.least(nominal[i]! * 0.8 - 5));
    expect(Math.max(...gaps.slice(3))).to.be.at.most(400 + 1_000);
    // Stopped by finalize: no attempt afterwards.
    const count = attempts.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(lines.filter((l) => l.msg === 'first contact handshake attempt').length).to.equal(count);
  });

  it('a signed node without the first contact\'s RID starts, says why it sends no handshake, and tries none', async () => {
    const lines: LogLine[] = [];
    const contact = await holdRefusingPort();
    held.push(contact);
    const node = new NodeInterface({
      name: 'signed-lonely',
      dataDir: dir,
      profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } },
      protocol: 'signed',
      firstContact: contact.url,
      inbox: false,
      logger: collectingLogger(lines),
    });
    await node.initialize();
    await node.finalize();
    const warning = lines.find((l) => l.level === 'warn' && /no first-contact RID configured/.test(l.msg ?? ''));
    expect(warning?.obj.firstContact).to.equal(contact.url);
    expect(lines.filter((l) => l.msg === 'first contact handshake attempt')).to.deep.equal([]);
  });

  it('refuses nonsense retry options with a clear error', () => {
    const base = { name: 'x', profile: { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } } };
    expect(() => new NodeInterface({ ...base, firstContactRetry: { maxDelayMs: 0 } })).to.throw(RangeError, /maxDelayMs must be positive/);
    expect(() => new NodeInterface({ ...base, firstContactRetry: { initialDelayMs: -1 } })).to.throw(RangeError, /initialDelayMs must be positive/);
    expect(() => new NodeInterface({ ...base, firstContactRetry: { jitter: 1 } })).to.throw(RangeError, /jitter must be in/);
  });
});
