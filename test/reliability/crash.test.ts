import { expect } from 'chai';
import { runCrashScenario } from './harness.ts';

describe('reliability: SIGKILL a full node under ingest and fan-out', function () {
  this.timeout(90_000);

  it('loses no acknowledged event, corrupts no cache file, and delivers every emitted event after restarts', async () => {
    const report = await runCrashScenario({
      kills: 4,
      minUpMs: 700,
      maxUpMs: 1_800,
      senders: 3,
      batchSize: 50,
      contentBytes: 1_000,
      senderPauseMs: 10,
      subscribers: 3,
      flakyRate: 0.3,
      drainTimeoutMs: 20_000,
      log: process.env.KOI_CRASH_VERBOSE ? (l) => console.log(l) : undefined,
    });
    if (process.env.KOI_CRASH_VERBOSE) console.log(JSON.stringify(report, null, 2));
    expect(report.killsSurvived).to.equal(4);
    expect(report.eventsAcknowledged).to.be.greaterThan(0);
    expect(report.corruptCacheFiles).to.equal(0);
    expect(report.eventsLost).to.equal(0);
    for (const sub of report.subscribers) expect(sub.undelivered).to.equal(0);
  });
});
