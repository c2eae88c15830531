import { expect } from 'chai';
import { Serial } from '../../../src/util/serial.ts';

describe('util/serial: promise-chain mutex', () => {
  it('runs tasks one at a time in the order given, whatever each one awaits', async () => {
    const serial = new Serial();
    const log: string[] = [];
    let inFlight = 0;
    const task = (name: string, ms: number) => async (): Promise<string> => {
      inFlight++;
      expect(inFlight, `${name} overlaps another task`).to.equal(1);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      inFlight--;
      return name;
    };
    const results = await Promise.all([serial.run(task('a', 30)), serial.run(task('b', 0)), serial.run(task('c', 10))]);
    expect(results).to.deep.equal(['a', 'b', 'c']);
    expect(log).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('a failing task rejects only its own caller; the next task still runs and idle never rejects', async () => {
    const serial = new Serial();
    const failed = serial.run(() => Promise.reject(new Error('boom')));
    const next = serial.run(() => Promise.resolve('after'));
    expect(await failed.catch((err: Error) => err.message)).to.equal('boom');
    expect(await next).to.equal('after');
    await serial.idle;
  });

  it('idle resolves only once every task given so far has ended', async () => {
    const serial = new Serial();
    let ended = false;
    void serial.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      ended = true;
    });
    await serial.idle;
    expect(ended).to.equal(true);
  });
});
