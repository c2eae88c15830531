import { EnvelopeSerializationError } from "./errors.js";
/**
 * pydantic parses a manifest timestamp into a datetime and prints it back, so the signed bytes
 * hold its form, not the text received: `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM|)`, with the
 * fraction dropped when microseconds are 0, any zero offset written `Z`, a naive time left
 * without suffix, and digits past the sixth truncated.
 */
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;
/** speedate reads an all-digits string as a Unix time: seconds, or milliseconds above 2e10. */
const UNIX = /^(\d{1,19})(?:\.(\d+))?$/;
const UNIX_MS_THRESHOLD = 20_000_000_000;
const pad = (n, width = 2) => String(n).padStart(width, '0');
function fraction(micros) {
    return micros === 0 ? '' : '.' + pad(micros, 6);
}
/** Returns pydantic's text for a timestamp, or throws EnvelopeSerializationError for text it would refuse. */
export function pydanticTimestamp(text, path = 'timestamp') {
    const unix = UNIX.exec(text);
    if (unix !== null)
        return fromUnix(unix[1], unix[2], text, path);
    const m = DATETIME.exec(text);
    if (m === null)
        throw new EnvelopeSerializationError(path, `${JSON.stringify(text)} is not a date-time pydantic reads`);
    const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms] = m;
    const year = Number(ys);
    const month = Number(mos);
    const day = Number(ds);
    const check = new Date(0);
    check.setUTCFullYear(year, month - 1, day);
    if (year < 1 || check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
        throw new EnvelopeSerializationError(path, `${JSON.stringify(text)} is not a valid date`);
    }
    const date = `${ys}-${mos}-${ds}`;
    // A bare date becomes midnight with no zone, as the vectors show.
    if (hs === undefined)
        return `${date}T00:00:00`;
    const hour = Number(hs);
    const minute = Number(mis);
    const second = ss === undefined ? 0 : Number(ss);
    if (hour > 23 || minute > 59 || second > 59) {
        throw new EnvelopeSerializationError(path, `${JSON.stringify(text)} is not a valid time`);
    }
    const micros = frac === undefined ? 0 : Number(frac.slice(0, 6).padEnd(6, '0'));
    let zone = '';
    if (z !== undefined)
        zone = 'Z';
    else if (sign !== undefined) {
        const oh = Number(ohs);
        const om = Number(oms);
        if (oh > 23 || om > 59)
            throw new EnvelopeSerializationError(path, `${JSON.stringify(text)} has an invalid offset`);
        zone = oh === 0 && om === 0 ? 'Z' : `${sign}${pad(oh)}:${pad(om)}`;
    }
    return `${date}T${hs}:${mis}:${pad(second)}${fraction(micros)}${zone}`;
}
function fromUnix(intText, fracText, text, path) {
    let micros = BigInt(intText) * 1000000n + BigInt((fracText ?? '').slice(0, 6).padEnd(6, '0'));
    if (BigInt(intText) > BigInt(UNIX_MS_THRESHOLD))
        micros /= 1000n;
    const ms = Number(micros / 1000n);
    const d = new Date(ms);
    if (Number.isNaN(d.getTime()) || d.getUTCFullYear() > 9999) {
        throw new EnvelopeSerializationError(path, `${JSON.stringify(text)} is out of range`);
    }
    const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
    return `${iso.slice(0, 19)}${fraction(Number(micros % 1000000n))}Z`;
}
//# sourceMappingURL=timestamp.js.map