/**
 * A promise-chain mutex: each task starts once every task given before it has ended (resolved or
 * rejected), so tasks never interleave. A failed task fails only its own caller.
 */
export class Serial {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves once every task given so far has ended; never rejects. */
  get idle(): Promise<void> {
    return this.tail;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(ignore, ignore);
    return result;
  }
}

function ignore(): void {}
