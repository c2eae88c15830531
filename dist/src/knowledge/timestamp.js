/**
 * ISO 8601 timestamps as the reference reads and writes them. Python keeps microseconds, JS Dates
 * only milliseconds, so times are compared as integer microseconds since the epoch (safe as a
 * double until the year 2255).
 */
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:\.(\d+))?)?)?$/;
/**
 * Microseconds since the epoch, or undefined when `text` is not a date-time Python's
 * `datetime.fromisoformat` would take. Fractions beyond microseconds are truncated (Python keeps
 * six digits); a timestamp without offset is read as UTC so that it still orders.
 */
export function parseTimestampMicros(text) {
    const m = ISO_DATETIME.exec(text);
    if (!m)
        return undefined;
    const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms, oss, ofrac] = m;
    const year = Number(ys);
    const month = Number(mos);
    const day = Number(ds);
    const hour = Number(hs);
    const minute = Number(mis);
    const second = ss === undefined ? 0 : Number(ss);
    // Python's datetime has no year 0 and no leap second.
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
        return undefined;
    const d = new Date(0);
    // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
    d.setUTCFullYear(year, month - 1, day);
    if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day)
        return undefined;
    d.setUTCHours(hour, minute, second, 0);
    const fracMicros = frac === undefined ? 0 : Number(frac.slice(0, 6).padEnd(6, '0'));
    let offsetMicros = 0;
    if (sign !== undefined && z === undefined) {
        const oh = Number(ohs);
        const om = Number(oms);
        const os = oss === undefined ? 0 : Number(oss);
        if (oh > 23 || om > 59 || os > 59)
            return undefined;
        const ofMicros = ofrac === undefined ? 0 : Number(ofrac.slice(0, 6).padEnd(6, '0'));
        offsetMicros = (sign === '-' ? -1 : 1) * (((oh * 60 + om) * 60 + os) * 1_000_000 + ofMicros);
    }
    return d.getTime() * 1000 + fracMicros - offsetMicros;
}
/** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form Python's pydantic emits for an aware UTC datetime. */
export function formatTimestampMicros(micros) {
    const ms = Math.floor(micros / 1000);
    const sub = micros - ms * 1000;
    const iso = new Date(ms).toISOString(); // ...SS.mmmZ
    return `${iso.slice(0, -1)}${String(sub).padStart(3, '0')}Z`;
}
let lastGeneratedMicros = 0;
/**
 * Now, in microseconds, strictly increasing within this process. The clock only has millisecond
 * resolution; without the bump two updates of one RID in the same millisecond would carry equal
 * timestamps and peers would drop the second as "not newer".
 */
export function nowMicros() {
    const now = Date.now() * 1000;
    lastGeneratedMicros = now > lastGeneratedMicros ? now : lastGeneratedMicros + 1;
    return lastGeneratedMicros;
}
//# sourceMappingURL=timestamp.js.map