import { Event, eventWireText } from '../knowledge/index.ts';
import { errorText } from '../util/error-text.ts';
import type { Entry, QueueState } from './state.ts';

/**
 * Journal records, one JSON line each. Ids and peer numbers are local to one journal file, which is
 * therefore readable without the process that wrote it.
 * h: header (cap in force); e: event definition; n: peer definition; p: push event `i` at the back
 * of the webhook queues of peers `w` and the poll queues of peers `q`; f: push events at the front
 * (k: w|q); t: take `c` webhook events of peer `n` into flight (replacing its previous batch);
 * d: drain `c` poll events; a: clear peer `n`'s in-flight batch.
 */
type JournalOp =
  | { o: 'h'; g: number; cap: number }
  | { o: 'e'; i: number; v: unknown }
  | { o: 'n'; n: number; p: string }
  | { o: 'p'; i: number; w: number[]; q: number[] }
  | { o: 'f'; k: 'w' | 'q'; n: number; i: number[] }
  | { o: 't'; n: number; c: number }
  | { o: 'd'; n: number; c: number }
  | { o: 'a'; n: number };

/** Pushes of one event to many peers in a row (a fan-out) become one record. */
export interface PushGroup {
  id: number;
  w: number[];
  q: number[];
}

// Records are built as strings by hand: JSON.stringify of an object per record was the largest
// cost of a push (the event text is already canonical JSON and is embedded as it is).
export const headerRecord = (gen: number, cap: number): string => JSON.stringify({ o: 'h', g: gen, cap });
export const eventRecord = (entry: Entry): string => `{"o":"e","i":${entry.id},"v":${entry.text}}`;
export const peerRecord = (n: number, key: string): string => JSON.stringify({ o: 'n', n, p: key });
export const frontRecord = (kind: 'webhook' | 'poll', n: number, entries: readonly Entry[]): string =>
  `{"o":"f","k":"${kind === 'webhook' ? 'w' : 'q'}","n":${n},"i":[${entries.map((e) => e.id).join(',')}]}`;
export const takeRecord = (n: number, count: number): string => `{"o":"t","n":${n},"c":${count}}`;
export const drainRecord = (n: number, count: number): string => `{"o":"d","n":${n},"c":${count}}`;
export const clearInflightRecord = (n: number): string => `{"o":"a","n":${n}}`;

/** The text of one journal append: definitions first (they change no state), then the records. */
export function serializeBatch(defs: readonly string[], ops: readonly (string | PushGroup)[]): string {
  if (defs.length === 0 && ops.length === 0) return '';
  const lines = defs.slice();
  for (const op of ops) {
    lines.push(typeof op === 'string' ? op : `{"o":"p","i":${op.id},"w":[${op.w.join(',')}],"q":[${op.q.join(',')}]}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Applies one journal's complete records to `state` (a torn tail was already cut off by the
 * storage engine's read); returns why it stopped early, if it did.
 */
export function replayRecords(state: QueueState, records: readonly string[]): string | undefined {
  const events = new Map<number, string>();
  const eventObjects = new Map<string, Event>();
  const peers = new Map<number, string>();
  let cap = state.maxPerPeer;
  const entry = (id: number): Entry | undefined => {
    const text = events.get(id);
    return text === undefined ? undefined : state.internText(text, eventObjects.get(text)!);
  };
  for (let lineNo = 0; lineNo < records.length; lineNo++) {
    const line = records[lineNo]!;
    if (line === '') continue;
    let op: JournalOp | undefined;
    try {
      op = parseOp(JSON.parse(line));
    } catch {
      op = undefined;
    }
    if (!op) return `line ${lineNo + 1} is not a journal record`;
    const bad = (): string => `line ${lineNo + 1} refers to an unknown event or peer`;
    switch (op.o) {
      case 'h':
        cap = op.cap;
        break;
      case 'e': {
        let event: Event;
        try {
          event = Event.fromJSON(op.v);
        } catch (err) {
          return `line ${lineNo + 1}: ${errorText(err)}`;
        }
        const text = eventWireText(event);
        events.set(op.i, text);
        if (!eventObjects.has(text)) eventObjects.set(text, event);
        break;
      }
      case 'n':
        peers.set(op.n, op.p);
        break;
      case 'p': {
        const e = entry(op.i);
        if (!e) return bad();
        for (const [kind, list] of [
          ['webhook', op.w],
          ['poll', op.q],
        ] as const) {
          for (const n of list) {
            const key = peers.get(n);
            if (key === undefined) return bad();
            state.pushBack(kind, key, e, cap, false);
          }
        }
        break;
      }
      case 'f': {
        const key = peers.get(op.n);
        const list = op.i.map(entry);
        if (key === undefined || list.some((e) => e === undefined)) return bad();
        state.pushFront(op.k === 'w' ? 'webhook' : 'poll', key, list as Entry[], cap, false);
        break;
      }
      case 't': {
        const key = peers.get(op.n);
        if (key === undefined) return bad();
        state.setInflight(key, state.shiftFront('webhook', key, op.c));
        break;
      }
      case 'd': {
        const key = peers.get(op.n);
        if (key === undefined) return bad();
        for (const e of state.shiftFront('poll', key, op.c)) state.unref(e);
        break;
      }
      case 'a': {
        const key = peers.get(op.n);
        if (key === undefined) return bad();
        state.clearInflight(key);
        break;
      }
    }
  }
  return undefined;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isCountList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isCount);

function parseOp(raw: unknown): JournalOp | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw['o']) {
    case 'h':
      return isCount(raw['g']) && isCount(raw['cap']) && raw['cap'] > 0 ? { o: 'h', g: raw['g'], cap: raw['cap'] } : undefined;
    case 'e':
      return isCount(raw['i']) ? { o: 'e', i: raw['i'], v: raw['v'] } : undefined;
    case 'n':
      return isCount(raw['n']) && typeof raw['p'] === 'string' ? { o: 'n', n: raw['n'], p: raw['p'] } : undefined;
    case 'p':
      return isCount(raw['i']) && isCountList(raw['w']) && isCountList(raw['q']) ? { o: 'p', i: raw['i'], w: raw['w'], q: raw['q'] } : undefined;
    case 'f':
      return (raw['k'] === 'w' || raw['k'] === 'q') && isCount(raw['n']) && isCountList(raw['i'])
        ? { o: 'f', k: raw['k'], n: raw['n'], i: raw['i'] }
        : undefined;
    case 't':
    case 'd':
      return isCount(raw['n']) && isCount(raw['c']) ? { o: raw['o'], n: raw['n'], c: raw['c'] } : undefined;
    case 'a':
      return isCount(raw['n']) ? { o: 'a', n: raw['n'] } : undefined;
    default:
      return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
