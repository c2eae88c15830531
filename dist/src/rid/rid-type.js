import { InvalidRIDTypeError } from "../errors.js";
/** Schemes whose RID type includes a namespace: `orn:<namespace>`, `urn:<namespace>`. */
export const NAMESPACE_SCHEMES = new Set(['orn', 'urn']);
// Unregistered types come from the network, so an unbounded cache would let a peer grow our
// memory at will; past this many entries new unknown types are built but not remembered.
const MAX_CACHED_TYPES = 10_000;
const typeCache = new Map();
/**
 * An RID type (rid-lib's "context"): `https`, `orn:koi-net.node`, `urn:isbn`. Instances are
 * interned per string, so `===` works for types obtained through this module, but use
 * `equals()` to be safe.
 */
export class RIDType {
    scheme;
    namespace;
    #string;
    /** Not for direct use: the components must already be validated; see `RIDType.fromString`. */
    constructor(scheme, namespace, string) {
        this.scheme = scheme;
        this.namespace = namespace;
        this.#string = string;
    }
    /** Parses an RID type string; throws `InvalidRIDTypeError` saying what is wrong. */
    static fromString(s) {
        if (typeof s !== 'string') {
            throw new InvalidRIDTypeError(s, `must be a string, not ${s === null ? 'null' : typeof s}`);
        }
        const cached = typeCache.get(s);
        if (cached !== undefined)
            return cached;
        const i = s.indexOf(':');
        let scheme;
        let namespace = null;
        if (i < 0) {
            scheme = s;
            if (NAMESPACE_SCHEMES.has(scheme)) {
                throw new InvalidRIDTypeError(s, `'${scheme}' is a namespace scheme: expected '${scheme}:<namespace>'`);
            }
        }
        else {
            scheme = s.slice(0, i);
            if (!NAMESPACE_SCHEMES.has(scheme)) {
                // Scheme matching is case-sensitive in rid-lib, so `ORN:x` lands here too.
                throw new InvalidRIDTypeError(s, `contains a ':' but scheme '${scheme}' does not take a namespace (only ${[...NAMESPACE_SCHEMES].join(', ')} do)`);
            }
            if (s.indexOf(':', i + 1) >= 0) {
                throw new InvalidRIDTypeError(s, `has more than two ':'-separated components (an RID, not an RID type?)`);
            }
            namespace = s.slice(i + 1);
        }
        if (scheme === '')
            throw new InvalidRIDTypeError(s, 'empty scheme');
        if (namespace === '')
            throw new InvalidRIDTypeError(s, 'empty namespace');
        return RIDType.intern(s, scheme, namespace);
    }
    /** Accepts an RIDType or its string form. */
    static of(x) {
        return x instanceof RIDType ? x : RIDType.fromString(x);
    }
    /**
     * @internal Returns the cached type for components the caller has already validated (the
     * RID parser), skipping the re-parse on the hot path.
     */
    static intern(typeString, scheme, namespace) {
        const cached = typeCache.get(typeString);
        if (cached !== undefined)
            return cached;
        const t = new RIDType(scheme, namespace, typeString);
        if (typeCache.size < MAX_CACHED_TYPES)
            typeCache.set(typeString, t);
        return t;
    }
    /** @internal Pins a registered type so that cache limits never drop it. */
    static pin(t) {
        typeCache.set(t.#string, t);
    }
    toString() {
        return this.#string;
    }
    toJSON() {
        return this.#string;
    }
    equals(other) {
        if (other === this)
            return true;
        if (other === null || other === undefined)
            return false;
        return (typeof other === 'string' ? other : other.toString()) === this.#string;
    }
    [Symbol.for('nodejs.util.inspect.custom')]() {
        return `RIDType(${this.#string})`;
    }
}
//# sourceMappingURL=rid-type.js.map