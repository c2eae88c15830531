import { expect } from 'chai';
import { Deque } from '../../../src/util/deque.ts';
import { Yielder } from '../../../src/util/slices.ts';

describe('util/deque: ring-buffer FIFO', () => {
  it('keeps FIFO order across growth, wrap-around, front insertion and batch removal (against an array model)', () => {
    const deque = new Deque<number>(4);
    const model: number[] = [];
    let next = 0;
    // Deterministic pseudo-random mix of operations.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const op = rand(10);
      if (op < 5) {
        deque.push(next);
        model.push(next++);
      } else if (op < 7) {
        expect(deque.shift()).to.equal(model.shift());
      } else if (op < 8) {
        const n = rand(7);
        expect(deque.shiftMany(n)).to.deep.equal(model.splice(0, n));
      } else if (op < 9) {
        const list = Array.from({ length: rand(6) }, () => next++);
        deque.unshiftAll(list);
        model.unshift(...list);
      } else {
        expect(deque.peek()).to.equal(model[0]);
      }
      expect(deque.length).to.equal(model.length);
    }
    expect(deque.toArray()).to.deep.equal(model);
    deque.clear();
    expect(deque.length).to.equal(0);
    expect(deque.shift()).to.equal(undefined);
  });

  it('shifting 200,000 items is linear: far faster than Array#shift on the same queue', () => {
    const n = 200_000;
    const deque = new Deque<{ i: number }>();
    for (let i = 0; i < n; i++) deque.push({ i });
    const started = performance.now();
    let sum = 0;
    for (let item = deque.shift(); item !== undefined; item = deque.shift()) sum += item.i;
    const ms = performance.now() - started;
    expect(sum).to.equal((n * (n - 1)) / 2);
    // Generous: ~5 ms idle; an O(n) shift makes this tens of seconds.
    expect(ms).to.be.lessThan(2_000);
  });
});

describe('util/slices: Yielder', () => {
  it('lets timers and I/O run during a long synchronous-looking loop', async () => {
    const yielder = new Yielder(5);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const end = performance.now() + 150;
    let yields = 0;
    while (performance.now() < end) {
      // A busy "kobj" of ~0.5 ms whose awaits would only settle microtasks.
      const spin = performance.now() + 0.5;
      while (performance.now() < spin);
      await Promise.resolve();
      const pause = yielder.maybeYield();
      if (pause) {
        yields++;
        await pause;
      }
    }
    clearInterval(timer);
    expect(yields).to.be.greaterThan(5);
    expect(ticks).to.be.greaterThan(5);
  });

  it('a short loop never yields', () => {
    const yielder = new Yielder(1_000);
    for (let i = 0; i < 1_000; i++) expect(yielder.maybeYield()).to.equal(undefined);
  });
});
