import { createHash } from 'node:crypto';
import canonicalizeImport from 'canonicalize';
import { InvalidContentsError } from "../errors.js";
/**
 * The package is CommonJS (`module.exports = fn`) but its typings declare an ESM default export,
 * which NodeNext types as `{ default }`; take whichever shape is really there.
 */
const canonicalize = typeof canonicalizeImport === 'function'
    ? canonicalizeImport
    : canonicalizeImport.default;
/**
 * In a `u` regex a paired surrogate is one code point, so this only matches the unpaired halves
 * that cannot be encoded as UTF-8 (rid-lib fails on them with UnicodeEncodeError).
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** A JSON object (not null, not an array): what bundle contents must be. */
export function isJsonObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
/**
 * Refuses, before `canonicalize` sees it, everything rid-lib cannot hash: canonicalize itself
 * would throw a bare Error on NaN/Infinity, silently escape lone surrogates (JSON.stringify is
 * well-formed since ES2019) where Python raises, emit `undefined` text for functions, and overflow
 * the stack on cycles.
 */
function assertHashable(value, path, ancestors) {
    switch (typeof value) {
        case 'string':
            if (LONE_SURROGATE.test(value))
                throw new InvalidContentsError(value, `lone surrogate in string at ${path}`);
            return;
        case 'number':
            if (!Number.isFinite(value))
                throw new InvalidContentsError(value, `${String(value)} is not a JSON number at ${path}`);
            return;
        case 'boolean':
            return;
        case 'object':
            break;
        default:
            throw new InvalidContentsError(typeof value, `${typeof value} is not JSON at ${path}`);
    }
    if (value === null)
        return;
    const toJSON = value.toJSON;
    if (typeof toJSON === 'function') {
        // canonicalize honours toJSON (e.g. Date) the way JSON.stringify does; check what it yields.
        assertHashable(toJSON.call(value), path, ancestors);
        return;
    }
    if (ancestors.has(value))
        throw new InvalidContentsError(undefined, `cycle at ${path}`);
    ancestors.add(value);
    if (Array.isArray(value)) {
        value.forEach((item, i) => {
            // JSON turns undefined array slots into null, as canonicalize does.
            if (item !== undefined)
                assertHashable(item, `${path}[${i}]`, ancestors);
        });
    }
    else {
        for (const key of Object.keys(value)) {
            if (LONE_SURROGATE.test(key))
                throw new InvalidContentsError(key, `lone surrogate in key at ${path}`);
            const item = value[key];
            // Absent-like values are dropped from objects by JSON and canonicalize alike.
            if (item !== undefined)
                assertHashable(item, `${path}.${key}`, ancestors);
        }
    }
    ancestors.delete(value);
}
/**
 * RFC 8785 (JCS) text of a JSON value, the form rid-lib hashes. Throws InvalidContentsError for
 * what rid-lib refuses: NaN, ±Infinity, lone surrogates (and non-JSON values such as functions,
 * bigints, cycles).
 */
export function canonicalJson(value) {
    assertHashable(value, '$', new Set());
    let text;
    try {
        text = canonicalize(value);
    }
    catch (err) {
        throw new InvalidContentsError(undefined, `cannot canonicalize: ${err.message}`);
    }
    if (text === undefined)
        throw new InvalidContentsError(value, 'value has no JSON form');
    return text;
}
/** SHA-256 hex of the UTF-8 bytes of the JCS text: `Manifest.sha256_hash` as rid-lib computes it. */
export function sha256HashJson(value) {
    return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
/**
 * Deep copy of JSON data. Keys are defined, not assigned, so a `__proto__` key stays an own data
 * property instead of replacing the copy's prototype.
 */
export function cloneJson(value) {
    if (typeof value !== 'object' || value === null)
        return value;
    if (Array.isArray(value))
        return value.map((v) => cloneJson(v));
    const out = {};
    for (const key of Object.keys(value)) {
        Object.defineProperty(out, key, {
            value: cloneJson(value[key]),
            enumerable: true,
            writable: true,
            configurable: true,
        });
    }
    return out;
}
//# sourceMappingURL=json.js.map