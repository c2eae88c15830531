import { InvalidRIDError } from '../errors.ts';
import { NAMESPACE_SCHEMES, RIDType } from './rid-type.ts';
import { errorText } from '../util/error-text.ts';

/** A class the registry builds for one RID type; it gets an already validated, normalized reference. */
export type RIDClass = new (type: RIDType, reference: string) => RID;

/** How a registered RID type checks and normalizes its references. */
export interface RIDTypeOptions {
  /** Returns why `reference` is not acceptable for this type, or `undefined` if it is. */
  validateReference?(reference: string): string | undefined;
  /**
   * Returns the canonical form of an accepted reference (what goes on the wire, into hashes and
   * cache file names). May throw to refuse the reference; the error's message becomes the reason.
   */
  normalizeReference?(reference: string): string;
  /** Subclass of `RID` to build for this type (default: `RID`). */
  ridClass?: RIDClass;
}

interface RegisteredType {
  readonly type: RIDType;
  readonly validate: ((reference: string) => string | undefined) | undefined;
  readonly normalize: ((reference: string) => string) | undefined;
  readonly ridClass: RIDClass;
}

const registry = new Map<string, RegisteredType>();

// Nodes parse the same RIDs over and over (their own, their peers', every event's); RIDs are
// immutable, so one parsed object per string can be shared. Bounded so that a stream of unique
// RIDs from the network cannot grow memory: two generations, the older one dropped whole when
// the newer fills up (evicting single Map entries from the front is O(n) in V8 once the
// deleted slots pile up, which made parsing 50x slower).
const RID_CACHE_GENERATION = 10_000;
let ridCache = new Map<string, RID>();
let ridCacheOld = new Map<string, RID>();

function cachedRid(s: string): RID | undefined {
  const hit = ridCache.get(s);
  if (hit !== undefined) return hit;
  const old = ridCacheOld.get(s);
  if (old !== undefined) rememberRid(s, old);
  return old;
}

function rememberRid(s: string, rid: RID): void {
  if (ridCache.size >= RID_CACHE_GENERATION) {
    ridCacheOld = ridCache;
    ridCache = new Map();
  }
  ridCache.set(s, rid);
}

/**
 * A Resource Identifier: `<type>:<reference>`. Parse with `RID.fromString` (or `RID.of`), which
 * returns the subclass registered for the type (`KoiNetNode`, `KoiNetEdge`, ...) or a plain
 * `RID` for types nobody registered (accepted as-is, like rid-lib's DefaultType).
 */
export class RID {
  readonly type: RIDType;
  /** The normalized reference (rid-lib's `reference`). */
  readonly reference: string;
  readonly #string: string;

  /**
   * Used by the registry, which has already validated and normalized `reference`; call
   * `RID.fromString` instead so that the type's rules apply. `string` (internal) is the parsed
   * input when it already is `<type>:<reference>`: kept instead of a copy, one string less per RID.
   */
  constructor(type: RIDType, reference: string, string?: string) {
    this.type = type;
    this.reference = reference;
    this.#string = string ?? type.toString() + ':' + reference;
  }

  get scheme(): string {
    return this.type.scheme;
  }

  get namespace(): string | null {
    return this.type.namespace;
  }

  /**
   * Parses and normalizes an RID string; throws `InvalidRIDError` whose `reason` says what is
   * wrong. Calling it on a subclass (`KoiNetNode.fromString`) also requires that subclass.
   */
  static fromString(s: string): RID {
    const rid = parseRid(s);
    if (!isA(rid, this)) {
      throw new InvalidRIDError(s, `is a ${rid.type.toString()} RID, not a ${this.name}`);
    }
    return rid;
  }

  /** Accepts an RID or its string form. */
  static of(x: RID | string): RID {
    if (x instanceof RID) {
      if (!isA(x, this)) {
        throw new InvalidRIDError(x.toString(), `is a ${x.type.toString()} RID, not a ${this.name}`);
      }
      return x;
    }
    return this.fromString(x);
  }

  /** The normalized RID string: what goes on the wire. */
  toString(): string {
    return this.#string;
  }

  toJSON(): string {
    return this.#string;
  }

  /** Equal when the normalized strings are equal; a string is parsed (normalized) first. */
  equals(other: RID | string | null | undefined): boolean {
    if (other === this) return true;
    if (other === null || other === undefined) return false;
    if (other instanceof RID) return other.#string === this.#string;
    if (other === this.#string) return true;
    try {
      return parseRid(other).#string === this.#string;
    } catch {
      return false;
    }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name}(${this.#string})`;
  }
}

/** Kept out of line: an inline `instanceof this` makes TypeScript narrow the RID to `never`. */
function isA(rid: RID, cls: abstract new (...args: never[]) => RID): boolean {
  return cls === RID || rid instanceof cls;
}

function parseRid(s: string): RID {
  if (typeof s !== 'string') {
    throw new InvalidRIDError(s, `must be a string, not ${s === null ? 'null' : typeof s}`);
  }
  const cached = cachedRid(s);
  if (cached !== undefined) return cached;
  const rid = parseRidUncached(s);
  rememberRid(s, rid);
  return rid;
}

/**
 * `RID.fromString` without the parse cache, for bulk loads of distinct RIDs (the cache index at
 * start-up: 100k unique strings only churned the cache, about half of the parse time). Same
 * rules, same errors.
 * @internal
 */
export function parseRidUncached(s: string): RID {
  if (typeof s !== 'string') {
    throw new InvalidRIDError(s, `must be a string, not ${s === null ? 'null' : typeof s}`);
  }

  const i = s.indexOf(':');
  if (i < 0) {
    throw new InvalidRIDError(s, "has no ':' between the RID type and the reference");
  }
  if (i === 0) throw new InvalidRIDError(s, 'empty scheme');
  const scheme = s.slice(0, i);
  let namespace: string | null = null;
  let typeEnd = i;
  if (NAMESPACE_SCHEMES.has(scheme)) {
    const j = s.indexOf(':', i + 1);
    if (j < 0) {
      throw new InvalidRIDError(s, `missing reference: '${scheme}' RIDs are '${scheme}:<namespace>:<reference>'`);
    }
    if (j === i + 1) throw new InvalidRIDError(s, 'empty namespace');
    namespace = s.slice(i + 1, j);
    typeEnd = j;
  }
  const rawReference = s.slice(typeEnd + 1);
  if (rawReference === '') throw new InvalidRIDError(s, 'empty reference');

  const typeString = namespace === null ? scheme : s.slice(0, typeEnd);
  const registered = registry.get(typeString);
  if (registered === undefined) return new RID(RIDType.intern(typeString, scheme, namespace), rawReference, s);
  const reference = applyType(s, registered, rawReference);
  if (registered.ridClass === RID) return new RID(registered.type, reference, reference === rawReference ? s : undefined);
  return new registered.ridClass(registered.type, reference);
}

function applyType(s: string, t: RegisteredType, reference: string): string {
  if (t.validate !== undefined) {
    const reason = t.validate(reference);
    if (reason !== undefined) throw new InvalidRIDError(s, reason);
  }
  if (t.normalize === undefined) return reference;
  try {
    const normalized = t.normalize(reference);
    if (normalized === '') throw new Error('reference normalizes to the empty string');
    return normalized;
  } catch (err) {
    if (err instanceof InvalidRIDError) {
      // A type that wraps another RID (normalized.text, vector): say which one failed.
      throw new InvalidRIDError(s, `${t.type.toString()} reference ${JSON.stringify(err.value)} is not a valid RID: ${err.reason}`);
    }
    const message = errorText(err);
    throw new InvalidRIDError(s, `${t.type.toString()} reference refused: ${message}`);
  }
}

/**
 * Registers (or replaces) the rules of an RID type. RIDs of that type parsed afterwards are
 * validated, normalized and built with `ridClass`. Throws `InvalidRIDTypeError` for a bad type
 * string.
 */
export function registerRIDType(typeString: RIDType | string, options: RIDTypeOptions = {}): RIDType {
  const type = RIDType.of(typeString);
  RIDType.pin(type);
  registry.set(type.toString(), {
    type,
    validate: options.validateReference?.bind(options),
    normalize: options.normalizeReference?.bind(options),
    ridClass: options.ridClass ?? RID,
  });
  // Strings parsed under the old rules may now mean something else.
  ridCache = new Map();
  ridCacheOld = new Map();
  return type;
}

/** Whether the type has registered rules (rid-lib: not a DefaultType). Never throws. */
export function isKnownRIDType(type: RIDType | string): boolean {
  return registry.has(typeof type === 'string' ? type : type.toString());
}

/** Every registered RID type, in registration order. */
export function knownRIDTypes(): RIDType[] {
  return [...registry.values()].map((t) => t.type);
}
