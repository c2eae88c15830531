import { RemoteResponseInvalidError, type ValidationIssue } from '../errors.ts';
import { Bundle, Event, Manifest } from '../knowledge/index.ts';
import { validateSchema, type SchemaName } from '../protocol/index.ts';
import { RID } from '../rid/index.ts';
import { errorText } from '../util/error-text.ts';
import { AnswerResponse } from './answer-response.ts';
import { field } from './json.ts';
import type { BundlesResult, EventsResult, ManifestsResult, RidsResult } from './types.ts';

/**
 * The JSON of a 2xx answer: what a middleware already parsed (a verified envelope's payload), or
 * the body read as text and parsed once here (not by openapi-fetch), so a non-JSON answer becomes
 * RemoteResponseInvalidError instead of a bare SyntaxError. Empty means null.
 */
export async function readAnswer(url: string, response: Response): Promise<unknown> {
  const parsed = response instanceof AnswerResponse ? response.parsed : undefined;
  return parsed ? parsed.value : readJsonAnswer(url, await response.text());
}

/** A 2xx answer's text as JSON (empty: null); RemoteResponseInvalidError when it is not JSON. */
export function readJsonAnswer(url: string, text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RemoteResponseInvalidError(url, [
      { loc: [], msg: 'response body is not JSON', type: 'json_invalid', input: text.slice(0, 200) },
    ]);
  }
}

export function eventsAnswer(url: string, json: unknown): EventsResult {
  return parseAnswer(url, 'EventsPayload', json, (v) => ({ events: listOf(v, 'events').map((e) => Event.fromJSON(e)) }));
}

export function ridsAnswer(url: string, json: unknown): RidsResult {
  return parseAnswer(url, 'RidsPayload', json, (v) => ({ rids: listOf(v, 'rids').map(parseRid) }));
}

export function manifestsAnswer(url: string, json: unknown): ManifestsResult {
  return parseAnswer(url, 'ManifestsPayload', json, (v) => ({
    manifests: listOf(v, 'manifests').map((m) => Manifest.fromJSON(m)),
    notFound: listOf(v, 'not_found').map(parseRid),
  }));
}

export function bundlesAnswer(url: string, json: unknown): BundlesResult {
  return parseAnswer(url, 'BundlesPayload', json, (v) => ({
    // 1.0.0b6 peers put the bundles under `manifests` (an upstream bug fixed in 1.0.0b8).
    bundles: listOf(v, Array.isArray(field(v, 'bundles')) ? 'bundles' : 'manifests').map((b) => Bundle.fromJSON(b)),
    notFound: listOf(v, 'not_found').map(parseRid),
    deferred: listOf(v, 'deferred').map(parseRid),
  }));
}

/**
 * Validates against the contract's schema, then builds the knowledge classes. The class parsers
 * apply rules the schema cannot (RID registry, event types), so their errors are contract breaks
 * by the peer too and get the same error class.
 */
function parseAnswer<T>(url: string, schema: SchemaName, json: unknown, build: (value: unknown) => T): T {
  const issues = validateSchema(schema, json);
  if (issues.length > 0) throw new RemoteResponseInvalidError(url, issues);
  try {
    return build(json);
  } catch (err) {
    const issue: ValidationIssue = { loc: [], msg: errorText(err), type: 'value_error' };
    throw new RemoteResponseInvalidError(url, [issue]);
  }
}

/** A list field of a validated payload; absent optional lists (`not_found`, `deferred`) read as empty. */
function listOf(value: unknown, key: string): unknown[] {
  const list = field(value, key);
  return Array.isArray(list) ? list : [];
}

function parseRid(value: unknown): RID {
  return RID.fromString(String(value));
}
