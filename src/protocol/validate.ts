/**
 * Validation of wire values against the contract's `components.schemas`, with one ajv instance
 * compiled from the generated JSON schemas (no hand-written copies of the shapes). Failures are
 * reported as FastAPI/pydantic-like issues so the server can answer 422 bodies shaped like the
 * reference's.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { SchemaValidationError, type ValidationIssue } from '../errors.ts';
import { RID, RIDType } from '../rid/index.ts';
import { CONTRACT_SCHEMAS, type JsonSchema } from './schemas.ts';
import type { SchemaName, Schemas } from './types.ts';

/** Decides whether a string is acceptable for the `rid` / `rid-type` formats. */
export interface RIDFormatCheckers {
  rid(value: string): boolean;
  ridType(value: string): boolean;
}

/** The spec's own patterns, so the default check and the schemas never disagree. */
function specPattern(name: 'RID' | 'RIDType'): RegExp {
  const pattern = CONTRACT_SCHEMAS[name].pattern;
  if (typeof pattern !== 'string') throw new Error(`openapi: components.schemas.${name} has no pattern`);
  return new RegExp(pattern, 'u');
}

const RID_PATTERN = specPattern('RID');
const RID_TYPE_PATTERN = specPattern('RIDType');

/** Syntax only, for callers that must accept RIDs of types this process has not registered. */
export const patternRIDFormatCheckers: RIDFormatCheckers = Object.freeze({
  rid: (s: string) => RID_PATTERN.test(s),
  ridType: (s: string) => RID_TYPE_PATTERN.test(s),
});

function parses(parse: (s: string) => unknown, s: string): boolean {
  try {
    parse(s);
    return true;
  } catch {
    // Any failure, not only InvalidRIDError: a format check must answer, never crash a request.
    return false;
  }
}

/**
 * The default: the spec pattern plus the RID registry, so type-specific rules (e.g.
 * `orn:koi-net.node` needs `<name>+<hash>`) are enforced wherever the contract is validated.
 */
export const registryRIDFormatCheckers: RIDFormatCheckers = Object.freeze({
  rid: (s: string) => RID_PATTERN.test(s) && parses((x) => RID.fromString(x), s),
  ridType: (s: string) => RID_TYPE_PATTERN.test(s) && parses((x) => RIDType.fromString(x), s),
});

let ridCheckers: RIDFormatCheckers = registryRIDFormatCheckers;

/**
 * Replaces the `rid` / `rid-type` format checks (e.g. with the RID registry's parsers). The
 * compiled validators call through this indirection, so swapping needs no recompilation.
 * Omitted checkers keep their current value; call with no argument to restore the registry-backed
 * defaults.
 */
export function setRIDFormatCheckers(checkers?: Partial<RIDFormatCheckers>): void {
  ridCheckers = checkers ? { ...ridCheckers, ...checkers } : registryRIDFormatCheckers;
}

export function getRIDFormatCheckers(): RIDFormatCheckers {
  return ridCheckers;
}

// ajv-formats is CommonJS; under NodeNext its default import is typed as the module object.
type FormatsPlugin = typeof addFormatsModule.default;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

/** `$id` under which the spec's schemas are registered; refs resolve as `<id>#/components/schemas/X`. */
export const SPEC_SCHEMA_ID = 'https://koi-net.invalid/openapi.json';

const ajv = new Ajv2020({
  // OpenAPI adds keywords ajv does not know (e.g. `example`, `discriminator`); ignore them.
  strict: false,
  // Report every offending field at once, as FastAPI does.
  allErrors: true,
  // Defaults are only ever applied to our private copy (see validateCopy).
  useDefaults: true,
  // Needed to tell RID fields (format rid) apart in error conversion.
  verbose: true,
  // The contract's own schemas, the same at every start: checking them against the 2020-12
  // meta-schema compiled that meta-schema first (~150 ms of each start-up).
  // test/unit/protocol/validate.test.ts runs that check instead.
  validateSchema: false,
});
addFormats(ajv);
ajv.addFormat('rid', { type: 'string', validate: (s: string) => ridCheckers.rid(s) });
ajv.addFormat('rid-type', { type: 'string', validate: (s: string) => ridCheckers.ridType(s) });
ajv.addSchema({ $id: SPEC_SCHEMA_ID, components: { schemas: CONTRACT_SCHEMAS } });

const validators = new Map<string, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    if (!Object.hasOwn(CONTRACT_SCHEMAS, name)) {
      throw new Error(`unknown schema ${JSON.stringify(name)}`);
    }
    const found = ajv.getSchema(`${SPEC_SCHEMA_ID}#/components/schemas/${name}`);
    if (!found) throw new Error(`cannot compile schema ${name}`);
    validate = found;
    validators.set(name, validate);
  }
  return validate;
}

/** Every schema name in the contract. */
export const SCHEMA_NAMES: readonly SchemaName[] = Object.freeze(Object.keys(CONTRACT_SCHEMAS) as SchemaName[]);

function decodePointer(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return [];
  const loc: (string | number)[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    // Array indexes become numbers, as in FastAPI's `loc`; object keys stay strings.
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      loc.push(Number(seg));
      node = node[Number(seg)];
    } else {
      loc.push(seg);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return loc;
}

const TYPE_ISSUES: Record<string, [type: string, msg: string]> = {
  string: ['string_type', 'Input should be a valid string'],
  integer: ['int_type', 'Input should be a valid integer'],
  number: ['float_type', 'Input should be a valid number'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  array: ['list_type', 'Input should be a valid list'],
  object: ['dict_type', 'Input should be a valid dictionary'],
  null: ['none_required', 'Input should be None'],
};

function isRIDSchema(schema: unknown): 'rid' | 'rid-type' | undefined {
  const format = (schema as JsonSchema | undefined)?.format;
  return format === 'rid' || format === 'rid-type' ? format : undefined;
}

const quoteList = (values: unknown[]): string => {
  const q = values.map((v) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v)));
  return q.length > 1 ? `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}` : (q[0] ?? '');
};

function valueAt(value: unknown, loc: (string | number)[]): unknown {
  let node = value;
  for (const seg of loc) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

/** `original` is the caller's value: `input` must not show defaults we filled into the copy. */
function toIssue(e: ErrorObject, data: unknown, original: unknown): ValidationIssue {
  const loc = decodePointer(e.instancePath, data);
  const input: unknown = valueAt(original, loc);
  const ridFormat = isRIDSchema(e.parentSchema);
  if (ridFormat && e.keyword !== 'type') {
    // Pattern, length and format failures of one RID field are one problem: not an RID.
    const what = ridFormat === 'rid' ? 'RID' : 'RID type';
    return { loc, msg: `Value error, invalid ${what} ${JSON.stringify(input)}`, type: 'value_error', input };
  }
  switch (e.keyword) {
    case 'required': {
      const field = (e.params as { missingProperty: string }).missingProperty;
      return { loc: [...loc, field], msg: 'Field required', type: 'missing', input };
    }
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type).split(',')[0] ?? '';
      const [type, msg] = TYPE_ISSUES[expected] ?? ['type_error', `Input should be of type ${expected}`];
      return { loc, msg, type, input };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      return { loc, msg: `Input should be ${quoteList(allowed)}`, type: 'enum', input };
    }
    case 'pattern':
      return { loc, msg: `String should match pattern '${String(e.schema)}'`, type: 'string_pattern_mismatch', input };
    case 'format': {
      const format = (e.params as { format: string }).format;
      if (format === 'date-time') {
        return { loc, msg: 'Input should be a valid datetime with a time zone', type: 'datetime_parsing', input };
      }
      return { loc, msg: `Value error, not a valid ${format}`, type: 'value_error', input };
    }
    case 'minimum':
      return { loc, msg: `Input should be greater than or equal to ${String(e.schema)}`, type: 'greater_than_equal', input };
    case 'minLength':
      return { loc, msg: `String should have at least ${String(e.schema)} characters`, type: 'string_too_short', input };
    default:
      return { loc, msg: e.message ?? `failed ${e.keyword}`, type: 'value_error', input };
  }
}

const startsWith = (loc: (string | number)[], prefix: (string | number)[]): boolean =>
  prefix.length <= loc.length && prefix.every((p, i) => loc[i] === p);

/**
 * ajv reports every branch of an `anyOf`; pydantic reports the branch that mattered. For
 * `X | null` fields the null branch is noise whenever the value is at least the right kind of
 * thing, and the bare `anyOf` summary is noise whenever a branch said something more specific.
 */
function convertErrors(errors: ErrorObject[], data: unknown, original: unknown): ValidationIssue[] {
  const entries = errors.map((e) => ({ e, loc: decodePointer(e.instancePath, data) }));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const { e, loc } of entries) {
    const others = entries.filter((o) => o.e !== e && o.e.keyword !== 'anyOf' && startsWith(o.loc, loc));
    const isNullBranch = e.keyword === 'type' && (e.params as { type: unknown }).type === 'null';
    if ((e.keyword === 'anyOf' || isNullBranch) && others.length > 0) continue;
    const issue: ValidationIssue =
      e.keyword === 'anyOf'
        ? { loc, msg: 'Input does not match any of the allowed forms', type: 'union_error', input: valueAt(original, loc) }
        : toIssue(e, data, original);
    const key = JSON.stringify([issue.loc, issue.type]);
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function validateCopy(name: SchemaName, value: unknown): { copy: unknown; issues: ValidationIssue[] } {
  let copy: unknown;
  try {
    // ajv's useDefaults writes into the value; never into the caller's.
    copy = structuredClone(value);
  } catch {
    return { copy: undefined, issues: [{ loc: [], msg: 'Input should be JSON data', type: 'value_error', input: value }] };
  }
  const validate = validatorFor(name);
  if (validate(copy)) return { copy, issues: [] };
  return { copy, issues: convertErrors(validate.errors ?? [], copy, value) };
}

/**
 * Whether `value` conforms to `components.schemas[name]`, or to that schema's property `property`
 * (e.g. `conformsTo('SignedEnvelope', v, 'signature')`): a yes/no for callers that word their own
 * errors. Never mutates `value`.
 */
export function conformsTo(name: SchemaName, value: unknown, property?: string): boolean {
  let validate: ValidateFunction;
  if (property === undefined) validate = validatorFor(name);
  else {
    const key = `${name}/properties/${property}`;
    let found = validators.get(key);
    if (!found) {
      if (!Object.hasOwn(CONTRACT_SCHEMAS, name)) throw new Error(`unknown schema ${JSON.stringify(name)}`);
      found = ajv.getSchema(`${SPEC_SCHEMA_ID}#/components/schemas/${key}`);
      if (!found) throw new Error(`schema ${name} has no property ${JSON.stringify(property)}`);
      validators.set(key, found);
    }
    validate = found;
  }
  if (typeof value !== 'object' || value === null) return validate(value) === true;
  try {
    // ajv's useDefaults writes into the value; never into the caller's.
    return validate(structuredClone(value)) === true;
  } catch {
    return false;
  }
}

/** Issues of `value` against `components.schemas[name]`; empty when it conforms. Never mutates `value`. */
export function validateSchema(name: SchemaName, value: unknown): ValidationIssue[] {
  return validateCopy(name, value).issues;
}

/** Throws `SchemaValidationError` unless `value` conforms to `components.schemas[name]`. */
export function assertSchema<N extends SchemaName>(name: N, value: unknown): asserts value is Schemas[N] {
  const issues = validateSchema(name, value);
  if (issues.length > 0) throw new SchemaValidationError(name, issues);
}

/**
 * Validates and returns a copy with the schema's defaults filled in (unknown keys kept).
 * Throws `SchemaValidationError`.
 */
export function parseSchema<N extends SchemaName>(name: N, value: unknown): Schemas[N] {
  const { copy, issues } = validateCopy(name, value);
  if (issues.length > 0) throw new SchemaValidationError(name, issues);
  return copy as Schemas[N];
}
