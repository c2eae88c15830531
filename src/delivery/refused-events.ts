/**
 * Statuses that say the request itself is wrong (malformed, refused, too large). Sending the same
 * batch again gets the same answer, and since flushes keep order, requeueing it would block every
 * later event to that peer forever; such a batch is dropped (and logged). Everything else (5xx,
 * 404/405 from a base_url that may still be corrected, 429) is retried on the next flush.
 */
export const NON_RETRYABLE_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

/**
 * The indexes of the events a 422 body names (FastAPI's `detail[].loc` of `["body","events",i,...]`,
 * or `["body","payload","events",i,...]` in signed mode); undefined when it names none, or an index
 * outside the batch, so that the caller falls back to dropping the whole batch.
 */
export function refusedEventIndexes(body: unknown, count: number): Set<number> | undefined {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (!Array.isArray(detail)) return undefined;
  const out = new Set<number>();
  for (const item of detail) {
    const loc = (item as { loc?: unknown } | null)?.loc;
    if (!Array.isArray(loc)) return undefined;
    const at = loc[1] === 'payload' ? 2 : 1;
    const i = loc[at + 1];
    if (loc[0] !== 'body' || loc[at] !== 'events' || typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) return undefined;
    out.add(i);
  }
  return out.size > 0 ? out : undefined;
}
