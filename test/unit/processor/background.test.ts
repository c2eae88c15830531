/** BackgroundWork's tracking of write-behind writes: what a drain and the backlog bound wait for. */
import { expect } from 'chai';
import { BackgroundWork } from '../../../src/processor/background.ts';
import { KnowledgeObject, KnowledgeSource } from '../../../src/knowledge/index.ts';
import { collectingLogger } from '../../helpers/logger.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const KOBJ = KnowledgeObject.fromRid('orn:test.bg:a', undefined, KnowledgeSource.INTERNAL);

describe('processor/BackgroundWork: write tracking', () => {
  it('settled() waits for the writes started before it, not for later ones; a failed write is logged and counts as ended', async () => {
    const logger = collectingLogger();
    const bg = new BackgroundWork(logger, 100);
    const a = deferred();
    const b = deferred();
    bg.persist(a.promise, KOBJ, undefined);
    let settled = false;
    void bg.settled().then(() => (settled = true));
    // Asked twice with nothing new started: the same wait.
    expect(bg.settled()).to.be.instanceOf(Promise);
    bg.persist(b.promise, KOBJ, undefined);
    await tick();
    expect(settled).to.equal(false);
    expect(bg.busy).to.equal(true);
    a.reject(new Error('disk full'));
    await tick();
    expect(settled, 'the write started later does not hold it').to.equal(true);
    expect(logger.messages('error')).to.deep.equal(['cache write failed after the knowledge object was processed']);
    expect(bg.busy).to.equal(true);
    b.resolve();
    await tick();
    expect(bg.busy).to.equal(false);
    await bg.settled();
  });

  it('writeBacklog() costs nothing below the bound and waits at it until a write ends', async () => {
    const bg = new BackgroundWork(collectingLogger(), 2);
    const writes = [deferred(), deferred()];
    bg.persist(writes[0]!.promise, KOBJ, undefined);
    expect(bg.writeBacklog()).to.equal(undefined);
    bg.persist(writes[1]!.promise, KOBJ, undefined);
    const wait = bg.writeBacklog();
    expect(wait).to.be.instanceOf(Promise);
    let released = false;
    void wait!.then(() => (released = true));
    await tick();
    expect(released).to.equal(false);
    writes[1]!.resolve();
    await tick();
    expect(released).to.equal(true);
    expect(bg.writeBacklog()).to.equal(undefined);
    writes[0]!.resolve();
    await bg.settled();
  });
});
