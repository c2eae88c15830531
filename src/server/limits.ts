/**
 * Request-shape limits. The body limit alone bounds bytes, not work: a 1 MB broadcast holds ~20k
 * bare events, each one a cache read and a possible remote fetch, and a poll with `limit: 0` would
 * drain a 10k-event queue into one answer.
 */
import type { OperationId } from '../../generated/stubs/operations.ts';
import type { ValidationDetailItem } from './errors.ts';

export interface ServerLimits {
  /** Most events one `/events/broadcast` may carry; more is a 422 naming `events`. */
  maxEventsPerBroadcast: number;
  /** Most entries of `rids` (bundles/manifests fetch) and of `rid_types` (rids/manifests fetch). */
  maxRidsPerFetch: number;
  /** Most events one `/events/poll` answer holds, whatever `limit` asks (0 = "all" means this many). */
  maxEventsPerPoll: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxEventsPerBroadcast: 1000,
  maxRidsPerFetch: 10_000,
  maxEventsPerPoll: 1000,
});

/** Fills in defaults and refuses nonsense early, at app creation rather than on the first request. */
export function resolveServerLimits(limits: Partial<ServerLimits> = {}): ServerLimits {
  const out: ServerLimits = { ...DEFAULT_SERVER_LIMITS };
  for (const key of Object.keys(DEFAULT_SERVER_LIMITS) as (keyof ServerLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`server limit ${key} must be a positive integer, got ${String(v)}`);
    out[key] = v;
  }
  return out;
}

/** Which body lists each operation caps, and by which limit. */
const CAPPED_LISTS: Partial<Record<OperationId, readonly { field: string; limit: keyof ServerLimits }[]>> = {
  broadcastEvents: [{ field: 'events', limit: 'maxEventsPerBroadcast' }],
  fetchRids: [{ field: 'rid_types', limit: 'maxRidsPerFetch' }],
  fetchManifests: [
    { field: 'rid_types', limit: 'maxRidsPerFetch' },
    { field: 'rids', limit: 'maxRidsPerFetch' },
  ],
  fetchBundles: [{ field: 'rids', limit: 'maxRidsPerFetch' }],
};

/** Whether `op`'s body has lists with caps. */
export function hasCappedLists(op: OperationId): boolean {
  return CAPPED_LISTS[op] !== undefined;
}

/** The lists of `body` longer than their cap, in pydantic's words; [] when none. */
export function cappedListProblems(op: OperationId, body: unknown, limits: ServerLimits): ValidationDetailItem[] {
  const detail: ValidationDetailItem[] = [];
  for (const { field, limit: which } of CAPPED_LISTS[op] ?? []) {
    const list = ownValue(body, field);
    if (Array.isArray(list) && list.length > limits[which]) detail.push(tooLongDetail(field, limits[which], list.length));
  }
  return detail;
}

/** pydantic's answer to a `Field(max_length=n)` list that is too long, so Python peers parse it. */
function tooLongDetail(field: string, max: number, actual: number): ValidationDetailItem {
  return {
    type: 'too_long',
    loc: ['body', field],
    msg: `List should have at most ${max} items after validation, not ${actual}`,
    input: `<${actual} items elided>`,
    ctx: { field_type: 'List', max_length: max, actual_length: actual },
  };
}

/** The poll `limit` a server applies: what was asked, at most maxEventsPerPoll; 0 (all) or none is that maximum. */
export function pollLimitFor(asked: unknown, limits: ServerLimits): number {
  const max = limits.maxEventsPerPoll;
  return typeof asked === 'number' && asked > 0 ? Math.min(asked, max) : max;
}

export function ownValue(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object' || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return Object.getOwnPropertyDescriptor(obj, key)?.value;
}
