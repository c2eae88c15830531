import { openapiDocument } from '../protocol/spec.ts';
import { RID, RIDType } from '../rid/index.ts';
import type { OperationId } from '../../generated/stubs/operations.ts';

/**
 * A cheap exact check of the three fetch request bodies, so the common valid request skips
 * express-openapi-validator (most of the server's CPU on a small fetch). It only ever accepts:
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

function validList(value: unknown, rule: StringRule): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) {
    if (typeof item !== 'string') return false;
    if (item.length < 2 * rule.minLength && codePointLength(item) < rule.minLength) return false;
    if (!rule.pattern.test(item) || !rule.parses(item)) return false;
  }
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
    default:
      return false;
  }
}
