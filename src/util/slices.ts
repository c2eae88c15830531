/**
 * Cooperative slicing for loops over large batches: `yielder.maybeYield()` returns a promise that
 * resolves on the next turn of the event loop (setImmediate, so pending I/O and timers run first)
 * once the current slice has run for `sliceMs`, and undefined otherwise, so a short loop pays
 * nothing. Without it a 100,000-item loop whose awaits only settle microtasks holds the event loop
 * for seconds and every other request waits.
 */
export const DEFAULT_SLICE_MS = 10;

export class Yielder {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  maybeYield(): Promise<void> | undefined {
    if (performance.now() - this.sliceStart < this.sliceMs) return undefined;
    return yieldToEventLoop().then(() => {
      this.sliceStart = performance.now();
    });
  }

  /** Starts a new slice (after the caller waited for something that let the event loop run). */
  reset(): void {
    this.sliceStart = performance.now();
  }
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
