/**
 * The one backoff formula of the node: a peer that failed `failures` times in a row is left alone
 * for min(max, base * 2^(failures-1)). Webhook delivery shortens it by a random jitter; the poller
 * uses it as is (its base is the poll interval).
 */

/**
 * After a failed webhook delivery (connection error, timeout, 5xx or any other retryable answer)
 * the peer is left alone for min(maxDelayMs, baseDelayMs * 2^(failures-1)), shortened by a random
 * fraction up to `jitter` so that peers that failed together do not all retry together.
 */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1; 0.5 = the delay is between 50% and 100% of the exponential value. */
  jitter: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: 0.5,
  random: Math.random,
});

/** min(maxMs, baseMs * 2^(failures-1)); 0 failures = no delay. */
export function exponentialDelay(baseMs: number, maxMs: number, failures: number): number {
  if (failures <= 0) return 0;
  // 2^(failures-1) overflows to Infinity long after the cap applies; min() keeps it finite.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 52));
}

/** The policy's delay after `failures` consecutive failures, jitter applied. */
export function backoffMs(policy: RetryPolicy, failures: number): number {
  const exponential = exponentialDelay(policy.baseDelayMs, policy.maxDelayMs, failures);
  return Math.round(exponential * (1 - policy.jitter * policy.random()));
}
