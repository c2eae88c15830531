import { eventWireText, type Event } from '../knowledge/index.ts';

/**
 * An event's wire JSON as UTF-8 bytes, made once per Event object. A queued event is one shared
 * object whichever queues hold it, so a coordinator encodes it once and copies the bytes into
 * every webhook body and poll answer it goes out in, instead of concatenating strings per body
 * (a rope that is then flattened, measured in bytes and encoded again for every answer).
 */
const wireBytes = new WeakMap<Event, Buffer>();

export function eventWireBytes(event: Event): Buffer {
  let bytes = wireBytes.get(event);
  if (bytes === undefined) {
    bytes = Buffer.from(eventWireText(event), 'utf8');
    wireBytes.set(event, bytes);
  }
  return bytes;
}

const OPEN = Buffer.from('{"events":[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** `{"events":[...]}` as bytes: the same bytes as eventsPayloadText's text, in one buffer. */
export function eventsPayloadBytes(events: readonly Event[]): Buffer {
  if (events.length === 0) return Buffer.concat([OPEN, CLOSE]);
  const parts = new Array<Buffer>(events.length * 2 + 1);
  parts[0] = OPEN;
  let length = OPEN.length + CLOSE.length + events.length - 1;
  for (let i = 0; i < events.length; i++) {
    const bytes = eventWireBytes(events[i]!);
    parts[2 * i + 1] = bytes;
    parts[2 * i + 2] = COMMA;
    length += bytes.length;
  }
  parts[parts.length - 1] = CLOSE;
  return Buffer.concat(parts, length);
}
