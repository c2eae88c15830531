/**
 * The part of Python's `urllib.parse.urlsplit` / `urlunsplit` (CPython 3.13) that rid-lib's
 * HTTP(S) types run on every reference. Python nodes put the re-joined string on the wire, into
 * manifest hashes and into cache file names, so we must produce the same bytes, including its
 * quirks (empty `?`/`#` dropped, tab/CR/LF removed anywhere, a leading `scheme:` in the
 * reference silently dropped). WHATWG `URL` normalizes far more (case, dot segments, percent
 * encoding) and would break wire compatibility, so it is deliberately not used.
 */
import { isIPv4, isIPv6 } from 'node:net';
/** Thrown for references Python's urlsplit refuses (its ValueError). */
export class UrlSplitError extends Error {
}
// Python's scheme_chars: ASCII letters, digits, '+', '-', '.'.
const SCHEME_CHAR = /^[A-Za-z][A-Za-z0-9+\-.]*$/;
const IPV_FUTURE = /^v[a-fA-F0-9]+\..+$/s;
const UNSAFE_BYTES = /[\t\r\n]/g;
function isC0OrSpace(code) {
    return code <= 0x20;
}
/**
 * Splits `reference` like `urlsplit(reference)` and joins it back like
 * `urlunsplit(('', netloc, path, query, fragment))`: the scheme component is discarded because
 * rid-lib stores the RID type's scheme separately.
 */
export function normalizeUrlReference(reference) {
    let url = reference;
    // Fast path: the overwhelmingly common `//host/path` reference with nothing to strip.
    let start = 0;
    while (start < url.length && isC0OrSpace(url.charCodeAt(start)))
        start++;
    if (start > 0)
        url = url.slice(start);
    if (url.includes('\t') || url.includes('\n') || url.includes('\r'))
        url = url.replace(UNSAFE_BYTES, '');
    const colon = url.indexOf(':');
    if (colon > 0 && SCHEME_CHAR.test(url.slice(0, colon))) {
        // Python treats `x:` at the start as a scheme; rid-lib then throws it away.
        url = url.slice(colon + 1);
    }
    let netloc = '';
    let hasNetloc = false;
    if (url.startsWith('//')) {
        let end = url.length;
        for (const delim of ['/', '?', '#']) {
            const k = url.indexOf(delim, 2);
            if (k >= 0 && k < end)
                end = k;
        }
        netloc = url.slice(2, end);
        url = url.slice(end);
        hasNetloc = true;
        const open = netloc.includes('[');
        const close = netloc.includes(']');
        if (open !== close)
            throw new UrlSplitError('Invalid IPv6 URL');
        if (open && close)
            checkBracketedHost(netloc);
    }
    let fragment = '';
    const hash = url.indexOf('#');
    if (hash >= 0) {
        fragment = url.slice(hash + 1);
        url = url.slice(0, hash);
    }
    let query = '';
    const q = url.indexOf('?');
    if (q >= 0) {
        query = url.slice(q + 1);
        url = url.slice(0, q);
    }
    if (hasNetloc)
        checkNetloc(netloc);
    let path = url;
    let out;
    if (netloc) {
        if (path && path[0] !== '/')
            path = '/' + path;
        out = '//' + netloc + path;
    }
    else if (path.startsWith('//')) {
        out = '//' + path;
    }
    else {
        out = path;
    }
    if (query)
        out += '?' + query;
    if (fragment)
        out += '#' + fragment;
    return out;
}
function checkBracketedHost(netloc) {
    const afterOpen = netloc.slice(netloc.indexOf('[') + 1);
    const closeAt = afterOpen.indexOf(']');
    const host = closeAt >= 0 ? afterOpen.slice(0, closeAt) : afterOpen;
    if (host.startsWith('v')) {
        if (!IPV_FUTURE.test(host))
            throw new UrlSplitError('IPvFuture address is invalid');
        return;
    }
    if (isIPv4(host))
        throw new UrlSplitError('An IPv4 address cannot be in brackets');
    if (!isIPv6(host))
        throw new UrlSplitError(`'${host}' does not appear to be an IPv4 or IPv6 address`);
}
/** Python refuses non-ASCII hosts that NFKC-normalize into URL delimiters (CVE-2019-9636). */
function checkNetloc(netloc) {
    // eslint-disable-next-line no-control-regex
    if (!netloc || /^[\x00-\x7f]*$/.test(netloc))
        return;
    const n = netloc.replace(/[@:#?]/g, '');
    const normalized = n.normalize('NFKC');
    if (n === normalized)
        return;
    for (const c of '/?#@:') {
        if (normalized.includes(c)) {
            throw new UrlSplitError(`netloc '${netloc}' contains invalid characters under NFKC normalization`);
        }
    }
}
//# sourceMappingURL=url.js.map