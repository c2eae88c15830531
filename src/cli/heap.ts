/**
 * One full garbage collection shortly after `koi-net start` is up. Opening a large cache makes
 * tens of MB of short-lived garbage (the index snapshot's text and its parse, the directory
 * listing: ~30 MB at 100k bundles), and V8 keeps its heap at that start-up peak until some later
 * allocation pressure or its memory reducer (seconds to minutes) collects it. Collected once at a
 * known quiet moment, the process settles ~20-25 MB lower and V8's next heap limits are set from
 * the live size rather than the peak (measured at 100k bundles: RSS 1 s after start-up 189-193 MB
 * without, 169-174 MB with; a full collection of that heap takes ~50-90 ms).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** After start-up work that runs right after the node serves (the contract validator's set-up). */
export const STARTUP_GC_DELAY_MS = 600;

/**
 * Schedules the collection; the timer does not keep the process alive. `--expose-gc` set at run
 * time exposes `gc` to contexts created afterwards only, so a new context hands it over.
 */
export function collectStartupGarbageSoon(delayMs: number = STARTUP_GC_DELAY_MS): void {
  const timer = setTimeout(() => {
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as unknown;
      if (typeof gc === 'function') (gc as () => void)();
    } catch {
      // Only memory held longer; nothing to report.
    }
  }, delayMs);
  timer.unref();
}
