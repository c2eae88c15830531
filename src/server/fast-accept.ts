import { fastFormats } from 'ajv-formats/dist/formats.js';
import { openapiDocument } from '../protocol/spec.ts';
import { KOI_NET_NODE_TYPE, RID, RIDType } from '../rid/index.ts';
import { Event, Manifest, isEventType } from '../knowledge/index.ts';
import type { OperationId } from '../../generated/stubs/operations.ts';
import { keepAcceptedEvents } from './checked-body.ts';

/**
 * A cheap exact check of the three fetch request bodies and of broadcasts, so the common valid
 * request skips express-openapi-validator (most of the server's CPU on a small fetch, a tenth of
 * ingest's). It only ever accepts:
 * anything it is not sure of goes on to the validator, which then answers (or refuses with its
 * 422 body) exactly as without this check. Accepting must therefore imply that the validator
 * accepts; the checks below are the contract's (pattern, minLength, format) for each item.
 */

interface StringRule {
  pattern: RegExp;
  minLength: number;
  parses: (s: string) => boolean;
}

function schemaRule(name: 'RID' | 'RIDType', parse: (s: string) => unknown): StringRule {
  const schema = openapiDocument.components.schemas[name] ?? {};
  const pattern = schema['pattern'];
  const minLength = schema['minLength'];
  return {
    // ajv compiles patterns with the `u` flag; so must we, for the same answers.
    pattern: typeof pattern === 'string' ? new RegExp(pattern, 'u') : /^[\s\S]*$/u,
    minLength: typeof minLength === 'number' ? minLength : 0,
    parses: (s) => {
      try {
        parse(s);
        return true;
      } catch {
        return false;
      }
    },
  };
}

const RID_RULE = schemaRule('RID', (s) => RID.fromString(s));
const RID_TYPE_RULE = schemaRule('RIDType', (s) => RIDType.fromString(s));

/** ajv's minLength counts code points, not UTF-16 units. */
function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function validString(item: unknown, rule: StringRule): item is string {
  if (typeof item !== 'string') return false;
  if (item.length < 2 * rule.minLength && codePointLength(item) < rule.minLength) return false;
  return rule.pattern.test(item) && rule.parses(item);
}

function validList(value: unknown, rule: StringRule): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!validString(item, rule)) return false;
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(obj: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Each optional list: valid when present, the schema default ([]) filled in when absent. */
function optionalLists(body: Record<string, unknown>, fields: readonly [string, StringRule][]): boolean {
  for (const [field, rule] of fields) {
    if (has(body, field) && !validList(body[field], rule)) return false;
  }
  // Only once everything passed: a refused body goes on to the validator untouched.
  for (const [field] of fields) if (!has(body, field)) body[field] = [];
  return true;
}

/**
 * True when `body` is a valid request of `op` under the contract; it then has the schema defaults
 * filled in, as the validator would have left it. False means "not sure": validate as usual.
 */
export function fastAccept(op: OperationId, body: unknown): boolean {
  if (!isPlainObject(body)) return false;
  switch (op) {
    case 'fetchRids':
      return optionalLists(body, [['rid_types', RID_TYPE_RULE]]);
    case 'fetchManifests':
      return optionalLists(body, [
        ['rid_types', RID_TYPE_RULE],
        ['rids', RID_RULE],
      ]);
    case 'fetchBundles':
      return has(body, 'rids') && validList(body['rids'], RID_RULE);
    case 'pollEvents':
      return acceptedPoll(body);
    case 'broadcastEvents': {
      const events = has(body, 'events') ? acceptedEvents(body['events']) : undefined;
      if (events === undefined) return false;
      // The handler takes them as they are: each event is checked and built once (checked-body.ts).
      keepAcceptedEvents(body, events);
      return true;
    }
    default:
      return false;
  }
}

/**
 * A poll of a node's queue: `rid` a valid RID of a node (another RID is answered by the pipeline,
 * with an empty list), `limit` absent or an integer >= 0, nothing else (the default filled in).
 */
function acceptedPoll(body: Record<string, unknown>): boolean {
  for (const key in body) if (key !== 'rid' && key !== 'limit') return false;
  const rid = body['rid'];
  if (!validString(rid, RID_RULE) || !(RID.fromString(rid).type.toString() === NODE_TYPE)) return false;
  if (has(body, 'limit')) {
    const limit = body['limit'];
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) return false;
  } else body['limit'] = 0;
  return true;
}

const NODE_TYPE = KOI_NET_NODE_TYPE.toString();

const SHA256_PATTERN = patternOf('Manifest', 'sha256_hash');
/** The validator's `date-time` (ajv-formats in express-openapi-validator's default 'fast' mode). */
const DATE_TIME = fastFormats['date-time'] as { validate: RegExp };

function patternOf(schema: string, property: string): RegExp {
  const properties = openapiDocument.components.schemas[schema]?.['properties'] as Record<string, { pattern?: unknown }> | undefined;
  const pattern = properties?.[property]?.pattern;
  if (typeof pattern !== 'string') throw new Error(`openapi: ${schema}.${property} has no pattern`);
  return new RegExp(pattern, 'u');
}

/**
 * The events of a broadcast, built, when every one is a valid Event under the contract (and one
 * the knowledge classes take); undefined when any is not, or when unsure.
 */
function acceptedEvents(value: unknown): Event[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const events: Event[] = [];
  for (const wire of value) {
    const event = acceptedEvent(wire);
    if (event === undefined) return undefined;
    events.push(event);
  }
  return events;
}

function acceptedEvent(wire: unknown): Event | undefined {
  if (!isPlainObject(wire)) return undefined;
  const eventType = wire['event_type'];
  if (!has(wire, 'rid') || !has(wire, 'event_type') || !isEventType(eventType)) return undefined;
  // Each RID string parsed once (the check parses it; the event and manifest take that object).
  const ridText = wire['rid'];
  const rid = validRid(ridText);
  if (rid === undefined) return undefined;
  const manifestWire = has(wire, 'manifest') ? wire['manifest'] : null;
  const contents = has(wire, 'contents') ? wire['contents'] : null;
  if (contents !== null && !isPlainObject(contents)) return undefined;
  let manifest: Manifest | undefined;
  if (manifestWire !== null) {
    if (!isPlainObject(manifestWire) || !has(manifestWire, 'rid') || !has(manifestWire, 'timestamp') || !has(manifestWire, 'sha256_hash')) return undefined;
    const { rid: mRidText, timestamp, sha256_hash: hash } = manifestWire;
    // The manifest's RID is nearly always the event's, as the same text.
    const mRid = mRidText === ridText ? rid : validRid(mRidText);
    if (mRid === undefined || typeof timestamp !== 'string' || !DATE_TIME.validate.test(timestamp)) return undefined;
    if (typeof hash !== 'string' || !SHA256_PATTERN.test(hash)) return undefined;
    try {
      // Throws for a timestamp the regular expression lets through but no calendar has.
      manifest = new Manifest({ rid: mRid, timestamp, sha256Hash: hash });
    } catch {
      return undefined;
    }
  }
  try {
    return new Event({ rid, eventType, manifest, contents: contents ?? undefined });
  } catch {
    return undefined;
  }
}

/** The parsed RID when `item` is a valid RID under the contract (validString with RID_RULE), else undefined. */
function validRid(item: unknown): RID | undefined {
  if (typeof item !== 'string') return undefined;
  if (item.length < 2 * RID_RULE.minLength && codePointLength(item) < RID_RULE.minLength) return undefined;
  if (!RID_RULE.pattern.test(item)) return undefined;
  try {
    return RID.fromString(item);
  } catch {
    return undefined;
  }
}
