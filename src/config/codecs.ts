/**
 * How one kind of config value is read from each source (YAML file, `KOI_NET_*` variable,
 * command-line flag), checked once merged, and written into the template. The schema picks a
 * codec per field; the loaders never look at a field's kind themselves.
 */
import { dirname, resolve } from 'node:path';
import { KoiNetError } from '../errors.ts';
import { RIDType } from '../rid/index.ts';
import { stringify } from 'yaml';

/** A config value that cannot be used; `field` is the config file's (snake_case) path. */
export class ConfigError extends KoiNetError {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly source?: string,
  ) {
    super('invalid_config', `invalid config${source ? ` (${source})` : ''}: field "${field}": ${reason}`);
  }
}

/** A command-line mistake: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** Throws a {@link ConfigError} for the field being checked; `at` extends its name (`[2]`). */
export type Fail = (reason: string, at?: string) => never;

export interface Codec<T> {
  /** A value from the YAML file (untrusted); `r.source` is the file's path. */
  file(v: unknown, field: string, r: FieldReader): T;
  /** A non-empty `KOI_NET_*` value. */
  env(text: string, name: string, r: FieldReader): T;
  /** A flag's value as node:util parseArgs gives it; undefined = the flag says nothing. */
  flag(v: string | boolean | (string | boolean)[], flag: string): T | undefined;
  readonly flagType: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** Checks a merged value (also one built in code). */
  check(v: T, fail: Fail): void;
  /** The value as YAML text in the template. */
  render(v: T): string;
}

/** A cap above this is no cap: it exceeds what a 1 GB body could hold of the smallest item. */
export const MAX_LIST_LIMIT = 10_000_000;
const BODY_LIMIT = /^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i;

const yaml = (v: unknown): string => stringify(v).trimEnd();
const got = (v: unknown): string => `got ${JSON.stringify(v)}`;
const text1 = (v: string | boolean | (string | boolean)[]): string => String(Array.isArray(v) ? v[v.length - 1] : v);

/** A non-empty string, taken as given from the environment and flags. */
export function text(check?: (v: string, fail: Fail) => void): Codec<string> {
  return {
    file: (v, field, r) => r.string(v, field),
    env: (t) => t,
    flag: (v) => text1(v),
    flagType: 'string',
    check: check ?? ((v, fail) => {
      if (!v) fail('must not be empty');
    }),
    render: yaml,
  };
}

/** A string or null (the file's way of saying "none"). */
export function nullableText(check: (v: string, fail: Fail) => void): Codec<string | null> {
  return {
    file: (v, field, r) => r.nullableString(v, field),
    env: (t) => t,
    flag: (v) => text1(v),
    flagType: 'string',
    check: (v, fail) => {
      if (v !== null) check(v, fail);
    },
    render: yaml,
  };
}

/** An http(s) URL. */
export function checkUrl(value: string, fail: Fail): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`must be an http(s) URL, got ${JSON.stringify(value)}`);
}

/**
 * One of a few words, case-insensitive. `strictFlag`: a wrong flag value is a usage error naming
 * the flag; otherwise the validator names the field. `nullAs`: what `null` in the file means.
 */
export function choice<T extends string>(values: readonly T[], options: { strictFlag?: boolean; nullAs?: T } = {}): Codec<T> {
  const expected = values.length === 2 ? `must be ${values[0]} or ${values[1]}` : `must be one of ${values.join(', ')}`;
  return {
    file: (v, field, r) => (v === null && options.nullAs !== undefined ? options.nullAs : r.oneOf(v, field, values, true)),
    env: (t, name, r) => r.oneOf(t, name, values, true),
    flag: (v, flag) => {
      const raw = text1(v);
      const s = raw.toLowerCase();
      if (options.strictFlag && !(values as readonly string[]).includes(s)) throw new UsageError(`--${flag} ${expected}, got ${JSON.stringify(raw)}`);
      return s as T;
    },
    flagType: 'string',
    check: (v, fail) => {
      if (!(values as readonly string[]).includes(v)) fail(`${expected}, ${got(v)}`);
    },
    render: yaml,
  };
}

/**
 * An integer in [min, max] from the file and the environment. The validator says "positive"
 * for fields without a real upper bound, and names the unit when there is one.
 */
export function int(min: number, max: number, options: { positive?: boolean; unit?: string } = {}): Codec<number> {
  return {
    file: (v, field, r) => r.int(v, field, min, max),
    env: (t, name, r) => r.int(t, name, min, max),
    flag: (v, flag) => {
      const s = text1(v);
      if (!/^\d+$/.test(s.trim())) throw new UsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(s)}`);
      return Number(s);
    },
    flagType: 'string',
    check: (n, fail) => {
      if (options.positive) {
        if (!Number.isInteger(n) || n < 1) fail(`must be a positive integer, ${got(n)}`);
      } else if (!Number.isInteger(n) || n < min || n > max) {
        fail(`must be an integer ${min}-${max}${options.unit ? ` (${options.unit})` : ''}, ${got(n)}`);
      }
    },
    render: yaml,
  };
}

/** true/false (also yes/no, on/off, 1/0 as text); a flag can only switch it on. */
export function bool(): Codec<boolean> {
  return {
    file: (v, field, r) => r.bool(v, field),
    env: (t, name, r) => r.bool(t, name),
    flag: (v) => (v === true ? true : undefined),
    flagType: 'boolean',
    check: () => undefined,
    render: yaml,
  };
}

/** true, false or null (null: the node decides from another field); no flag. */
export function nullableBool(): Codec<boolean | null> {
  return {
    file: (v, field, r) => (v === null ? null : r.bool(v, field)),
    env: (t, name, r) => (t.toLowerCase() === 'null' ? null : r.bool(t, name)),
    flag: () => undefined,
    flagType: 'boolean',
    check: () => undefined,
    render: yaml,
  };
}

/** A list of RID types: a YAML list, comma-separated in the environment, repeatable flags. */
export function ridTypeList(): Codec<string[]> {
  const split = (xs: string[]): string[] => xs.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  return {
    file: (v, field, r) => r.stringList(v, field),
    env: (t) => split([t]),
    flag: (v) => split((Array.isArray(v) ? v : [v]).map(String)),
    flagType: 'string',
    multiple: true,
    check: (list, fail) =>
      list.forEach((t, i) => {
        try {
          RIDType.fromString(t);
        } catch (err) {
          fail(`not an RID type: ${(err as Error).message}`, `[${i}]`);
        }
      }),
    render: (xs) => (xs.length === 0 ? '[]' : `[${xs.map((x) => yaml(x)).join(', ')}]`),
  };
}

/** A body size in express notation (`100kb`, `1mb`, a byte count). */
export function byteSize(): Codec<string> {
  const reason = 'must look like 100kb, 1mb or a byte count';
  return {
    file: (v, field, r) => r.bodyLimit(v, field),
    env: (t, name, r) => r.bodyLimit(t, name),
    flag: (v) => text1(v),
    flagType: 'string',
    check: (v, fail) => {
      if (!BODY_LIMIT.test(v)) fail(`${reason}, ${got(v)}`);
    },
    render: yaml,
  };
}

/**
 * A directory: relative to the config file in the file, to the working directory in the
 * environment (flags are made absolute by the loader, which knows the working directory).
 */
export function directory(): Codec<string> {
  return { ...text(), file: (v, field, r) => resolve(dirname(resolve(r.source)), r.string(v, field)), env: (t) => resolve(t) };
}

/** Typed reads of untrusted YAML or environment values, each error naming the field. */
export class FieldReader {
  constructor(readonly source: string) {}

  private fail(field: string, reason: string): never {
    throw new ConfigError(field, reason, this.source);
  }
  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `must be a mapping, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }
  only(o: Record<string, unknown>, prefix: string, keys: string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) this.fail(`${prefix}${k}`, `unknown field (known: ${keys.join(', ')})`);
    }
  }
  string(v: unknown, field: string): string {
    if (typeof v !== 'string' || v === '') this.fail(field, `must be a non-empty string, got ${describe(v)}`);
    return v as string;
  }
  nullableString(v: unknown, field: string): string | null {
    return v === null ? null : this.string(v, field);
  }
  bool(v: unknown, field: string): boolean {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const s = v.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
    }
    return this.fail(field, `must be true or false, got ${describe(v)}`);
  }
  int(v: unknown, field: string, min: number, max: number): number {
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) this.fail(field, `must be an integer ${min}-${max}, got ${describe(v)}`);
    return n as number;
  }
  oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], caseInsensitive = false): T {
    const s = typeof v === 'string' && caseInsensitive ? v.toLowerCase() : v;
    if (typeof s !== 'string' || !(allowed as readonly string[]).includes(s)) this.fail(field, `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
    return s as T;
  }
  stringList(v: unknown, field: string): string[] {
    if (v === null) return [];
    if (!Array.isArray(v)) this.fail(field, `must be a list, got ${describe(v)}`);
    return (v as unknown[]).map((x, i) => this.string(x, `${field}[${i}]`));
  }
  bodyLimit(v: unknown, field: string): string {
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !BODY_LIMIT.test(s)) this.fail(field, `must look like 100kb, 1mb or a byte count, got ${describe(v)}`);
    return s as string;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}
