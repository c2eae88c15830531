/**
 * The compact JSON texts of a broadcast's event contents, cut from the request body instead of
 * serialized again at the cache write (see cache/contents-text.ts). A slice is kept only where the
 * body is, at that place, exactly what `JSON.stringify` makes of the parsed value: the body is
 * walked beside the parsed value, and any whitespace, escape sequence, number spelling, key order
 * or duplicate key that JSON.stringify would not reproduce ends the walk (those events are then
 * serialized as before). Bodies sent by JSON.stringify, or Python's compact dumps, walk through.
 */
import { keepContentsText } from '../cache/contents-text.ts';

const QUOTE = 34;
/** The default maxEventsPerBroadcast: ~3 ms of walking at most. */
const MAX_WALKED_EVENTS = 1_000;
const BACKSLASH = '\\';

/**
 * The index just past `value`'s compact JSON in `text` at `at`, when the text there is exactly
 * `JSON.stringify(value)`; -1 when it is not (or when unsure). `value` came from JSON.parse of
 * `text` (well-formed: valid UTF-8, so no lone surrogates) and is bounded in depth by the nesting
 * check, so the recursion is too.
 */
export function compactEnd(text: string, at: number, value: unknown): number {
  if (value === null) return text.startsWith('null', at) ? at + 4 : -1;
  switch (typeof value) {
    case 'string':
      return stringEnd(text, at, value);
    case 'number': {
      // A finite number's JSON is String(n); "1.0", "1e2" or "-0" in the body differ, and end the walk.
      const s = String(value);
      return text.startsWith(s, at) ? at + s.length : -1;
    }
    case 'boolean':
      return value ? (text.startsWith('true', at) ? at + 4 : -1) : text.startsWith('false', at) ? at + 5 : -1;
    case 'object':
      return Array.isArray(value) ? arrayEnd(text, at, value) : objectEnd(text, at, value as Record<string, unknown>);
    default:
      return -1;
  }
}

/**
 * A string is taken only when its body text holds no backslash: then the text between the quotes
 * is the value itself (no escapes), and JSON.stringify writes it back unchanged, since a parsed
 * string without escapes holds no quote, control character or lone surrogate.
 */
function stringEnd(text: string, at: number, value: string): number {
  const close = at + 1 + value.length;
  if (text.charCodeAt(at) !== QUOTE || text.charCodeAt(close) !== QUOTE) return -1;
  // slice + === compares as memory (startsWith went char by char: 1 µs per KB against 0.2).
  return text.slice(at + 1, close) === value && !value.includes(BACKSLASH) ? close + 1 : -1;
}

function arrayEnd(text: string, at: number, value: readonly unknown[]): number {
  if (text.charCodeAt(at) !== 0x5b /* [ */) return -1;
  let i = at + 1;
  for (let k = 0; k < value.length; k++) {
    if (k > 0) {
      if (text.charCodeAt(i) !== 0x2c /* , */) return -1;
      i++;
    }
    i = compactEnd(text, i, value[k]);
    if (i < 0) return -1;
  }
  return text.charCodeAt(i) === 0x5d /* ] */ ? i + 1 : -1;
}

/** Keys in Object.keys order, which is JSON.stringify's (integer-like keys first: a body in another order ends the walk). */
function objectEnd(text: string, at: number, value: Record<string, unknown>, onMember?: (key: string, start: number, end: number) => void): number {
  if (text.charCodeAt(at) !== 0x7b /* { */) return -1;
  let i = at + 1;
  const keys = Object.keys(value);
  for (let k = 0; k < keys.length; k++) {
    if (k > 0) {
      if (text.charCodeAt(i) !== 0x2c /* , */) return -1;
      i++;
    }
    const key = keys[k]!;
    i = stringEnd(text, i, key);
    if (i < 0 || text.charCodeAt(i) !== 0x3a /* : */) return -1;
    const start = i + 1;
    i = compactEnd(text, start, value[key]);
    if (i < 0) return -1;
    onMember?.(key, start, i);
  }
  // A duplicate key leaves a member here that the parsed object does not have.
  return text.charCodeAt(i) === 0x7d /* } */ ? i + 1 : -1;
}

/**
 * Keeps the compact text of each event's contents in `text`, a broadcast body that parsed to
 * `body` and passed the contract check (`events` a list of event objects). Events from the first
 * one the body does not spell as JSON.stringify would are left to be serialized as usual.
 */
export function keepBroadcastContentsTexts(text: string, body: { events: readonly unknown[] }): void {
  const prefix = '{"events":[';
  const events = body.events;
  // One synchronous walk: a batch past the default cap (a raised limit) is left to the cache
  // writes, which the processor spreads out, rather than hold the event loop here.
  if (events.length > MAX_WALKED_EVENTS || !text.startsWith(prefix)) return;
  let i = prefix.length;
  for (let k = 0; k < events.length; k++) {
    if (k > 0) {
      if (text.charCodeAt(i) !== 0x2c /* , */) return;
      i++;
    }
    const event = events[k] as Record<string, unknown>;
    i = objectEnd(text, i, event, (key, start, end) => {
      const contents = event[key];
      if (key === 'contents' && contents !== null && typeof contents === 'object') keepContentsText(contents, text.slice(start, end));
    });
    if (i < 0) return;
  }
}
