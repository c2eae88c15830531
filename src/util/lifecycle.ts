/**
 * The one lifecycle contract of every running part of a node (in the way js-libp2p's Startable
 * works): a part owns its timers, workers and handles, acquires them in start() and releases them
 * in stop(). The node starts its parts in order and stops them in reverse, so no part needs to
 * know who comes before or after it.
 */
export interface Startable {
  /** Acquire timers, workers, files. Called once, before the part is used. */
  start(): Promise<void> | void;
  /** Release everything start() acquired; must be safe to call when start() failed half-way. */
  stop(): Promise<void> | void;
}

/**
 * Starts parts in order; when one fails, stops the ones already started (in reverse) and rethrows,
 * so a failed start leaves nothing running.
 */
export async function startAll(parts: readonly Startable[]): Promise<void> {
  const started: Startable[] = [];
  try {
    for (const part of parts) {
      await part.start();
      started.push(part);
    }
  } catch (err) {
    await stopAll(started).catch(() => undefined);
    throw err;
  }
}

/** Stops parts in reverse order; every part is stopped even when an earlier stop throws (the first error is rethrown). */
export async function stopAll(parts: readonly Startable[]): Promise<void> {
  let first: unknown;
  let failed = false;
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
    } catch (err) {
      if (!failed) {
        failed = true;
        first = err;
      }
    }
  }
  if (failed) throw first;
}
