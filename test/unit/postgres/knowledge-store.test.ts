/**
 * The PostgreSQL knowledge store when the database fails: a write that cannot land while the
 * database is down is retried, then reported, and sync() (what the inbox checkpoint waits for)
 * rejects until that RID is stored; a value PostgreSQL can never hold fails at once, without
 * holding anything up.
 */
import { expect } from 'chai';
import { Bundle } from '../../../src/knowledge/index.ts';
import { RID } from '../../../src/rid/index.ts';
import { PgDatabase, PgKnowledgeStore } from '../../../src/postgres/index.ts';
import { freshDatabase, sharedCluster } from '../../helpers/postgres.ts';

describe('postgres: the knowledge store when the database fails', function () {
  this.timeout(60_000);
  let db: PgDatabase;
  before(async () => {
    db = await PgDatabase.open(await freshDatabase('koi_ks'), { connectTimeoutMs: 1_000 });
  });
  after(async () => {
    sharedCluster().start();
    await db.close();
  });

  it('a write while the database is down is retried, then fails; sync() rejects until the RID is stored', async () => {
    const store = await PgKnowledgeStore.open(db, { retryForMs: 1_500 });
    const rid = RID.fromString('orn:test.thing:outage');
    sharedCluster().stop();
    const started = Date.now();
    let failed: unknown;
    try {
      await store.write(Bundle.generate(rid, { n: 1 }));
    } catch (err) {
      failed = err;
    }
    expect((failed as { code?: string }).code).to.equal('store_unavailable');
    expect(Date.now() - started).to.be.at.least(500);
    expect(store.exists(rid)).to.equal(false);
    expect(store.health().status).to.equal('degraded');
    let syncError: unknown;
    await store.sync().catch((err: unknown) => (syncError = err));
    expect(String(syncError)).to.match(/could not be stored in PostgreSQL/);

    sharedCluster().start();
    await store.write(Bundle.generate(rid, { n: 2 }));
    await store.sync();
    expect(store.health().status).to.equal('ok');
    expect((await store.read(rid))?.contents).to.deep.equal({ n: 2 });
  });

  it('a bundle PostgreSQL can never hold (\\u0000 in JSONB) fails at once and holds nothing up', async () => {
    const store = await PgKnowledgeStore.open(db, { retryForMs: 30_000 });
    const rid = RID.fromString('orn:test.thing:nul');
    const started = Date.now();
    let failed: unknown;
    try {
      await store.write(Bundle.generate(rid, { text: 'a \u0000 b' }));
    } catch (err) {
      failed = err;
    }
    expect(failed).to.be.instanceOf(Error);
    expect(Date.now() - started).to.be.below(10_000);
    expect(store.exists(rid)).to.equal(false);
    await store.sync();
  });
});
