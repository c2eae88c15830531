import { eventWireText, type Event } from '../knowledge/index.ts';

/**
 * The wire bytes of `{"events":[...]}` bodies (webhook batches, poll answers), made so that each
 * event is encoded and copied into memory once however many bodies it goes out in.
 *
 * A coordinator sends the same events to every subscriber, in batches whose cuts differ from
 * peer to peer. The first body an event goes out in copies it into a *run*: the UTF-8 text of
 * consecutive events joined by commas, with the end offset of each. A later body made of events
 * that sit side by side in a run takes that stretch as a view of the run's buffer (no copy), so a
 * body is a few views: OPEN, stretch, COMMA, stretch, ..., CLOSE, written out as they are.
 * (Building each body as one string or one buffer copied every event into every body: 280 MB of
 * copies and garbage for 5,000 events to 70 peers.)
 *
 * Events are the shared, immutable objects the queues hold; a run lives as long as one of its
 * events does (the map is keyed weakly by event).
 */
interface Run {
  readonly bytes: Buffer;
  /** Byte offset just after event k's text (a comma or the end follows). */
  readonly ends: Int32Array;
}

interface Place {
  readonly run: Run;
  readonly index: number;
}

const places = new WeakMap<Event, Place>();

const OPEN = Buffer.from('{"events":[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** A body as the buffers to write in order, and their total length. */
export interface PayloadParts {
  readonly parts: Buffer[];
  readonly length: number;
}

/** `{"events":[...]}` of `events` as views of their runs: the bytes of eventsPayloadText's text. */
export function eventsPayloadParts(events: readonly Event[]): PayloadParts {
  const parts: Buffer[] = [OPEN];
  let length = OPEN.length + CLOSE.length;
  let i = 0;
  while (i < events.length) {
    let place = places.get(events[i]!);
    if (place === undefined) {
      newRun(events, i);
      place = places.get(events[i]!)!;
    }
    const { run, index } = place;
    // Extend the stretch while the next event is the run's next one.
    let k = 1;
    while (i + k < events.length && index + k < run.ends.length) {
      const next = places.get(events[i + k]!);
      if (next === undefined || next.run !== run || next.index !== index + k) break;
      k++;
    }
    const start = index === 0 ? 0 : run.ends[index - 1]! + 1;
    const end = run.ends[index + k - 1]!;
    if (i > 0) {
      parts.push(COMMA);
      length += 1;
    }
    parts.push(start === 0 && end === run.bytes.length ? run.bytes : run.bytes.subarray(start, end));
    length += end - start;
    i += k;
  }
  parts.push(CLOSE);
  return { parts, length };
}

/** The same bytes in one buffer (one copy: for callers that need a single buffer). */
export function eventsPayloadBytes(events: readonly Event[]): Buffer {
  const { parts, length } = eventsPayloadParts(events);
  return Buffer.concat(parts, length);
}

/**
 * A run of the events from `from` on that are in no run yet, up to the first that is: one string
 * of their texts, encoded once.
 */
function newRun(events: readonly Event[], from: number): void {
  let to = from;
  while (to < events.length && (to === from || !places.has(events[to]!))) to++;
  const texts = new Array<string>(to - from);
  for (let k = from; k < to; k++) texts[k - from] = eventWireText(events[k]!);
  const text = texts.join(',');
  const bytes = Buffer.from(text, 'utf8');
  const ends = new Int32Array(texts.length);
  // Byte offsets: UTF-8 lengths differ from string lengths only when a text is not ASCII.
  const ascii = bytes.length === text.length;
  let offset = 0;
  for (let k = 0; k < texts.length; k++) {
    offset += ascii ? texts[k]!.length : Buffer.byteLength(texts[k]!, 'utf8');
    ends[k] = offset;
    offset += 1;
  }
  const run: Run = { bytes, ends };
  for (let k = from; k < to; k++) places.set(events[k]!, { run, index: k - from });
}
