/**
 * ISO 8601 timestamps as the reference reads and writes them. Python keeps microseconds, JS Dates
 * only milliseconds, so times are compared as integer microseconds since the epoch (safe as a
 * double until the year 2255).
 */

const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})(?::?(\d{2})(?:\.(\d+))?)?)?$/;

/**
 * Microseconds since the epoch, or undefined when `text` is not a date-time Python's
 * `datetime.fromisoformat` would take. Fractions beyond microseconds are truncated (Python keeps
 * six digits); a timestamp without offset is read as UTC so that it still orders.
 */
export function parseTimestampMicros(text: string): number | undefined {
  const fast = canonicalUtcMicros(text);
  if (fast !== undefined) return fast;
  const m = ISO_DATETIME.exec(text);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, z, sign, ohs, oms, oss, ofrac] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = ss === undefined ? 0 : Number(ss);
  // Python's datetime has no year 0 and no leap second.
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  d.setUTCHours(hour, minute, second, 0);
  const fracMicros = frac === undefined ? 0 : Number(frac.slice(0, 6).padEnd(6, '0'));
  let offsetMicros = 0;
  if (sign !== undefined && z === undefined) {
    const oh = Number(ohs);
    const om = Number(oms);
    const os = oss === undefined ? 0 : Number(oss);
    if (oh > 23 || om > 59 || os > 59) return undefined;
    const ofMicros = ofrac === undefined ? 0 : Number(ofrac.slice(0, 6).padEnd(6, '0'));
    offsetMicros = (sign === '-' ? -1 : 1) * (((oh * 60 + om) * 60 + os) * 1_000_000 + ofMicros);
  }
  return d.getTime() * 1000 + fracMicros - offsetMicros;
}

/** Days in `month` (1-12) of `year`, proleptic Gregorian. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The decimal value of `text[start, end)`, or -1 unless every character is an ASCII digit. */
function digits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * The form every peer writes (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, year 100 or later) without the regex
 * and Date object of the general parser: it ran for every event received. Anything else, or
 * anything this would refuse, goes to the general parser, so both always agree.
 */
function canonicalUtcMicros(t: string): number | undefined {
  if (
    t.length !== 27 ||
    t.charCodeAt(4) !== 45 /* - */ ||
    t.charCodeAt(7) !== 45 ||
    t.charCodeAt(10) !== 84 /* T */ ||
    t.charCodeAt(13) !== 58 /* : */ ||
    t.charCodeAt(16) !== 58 ||
    t.charCodeAt(19) !== 46 /* . */ ||
    t.charCodeAt(26) !== 90 /* Z */
  ) {
    return undefined;
  }
  const year = digits(t, 0, 4);
  const month = digits(t, 5, 7);
  const day = digits(t, 8, 10);
  const hour = digits(t, 11, 13);
  const minute = digits(t, 14, 16);
  const second = digits(t, 17, 19);
  const micros = digits(t, 20, 26);
  // Years below 100 need the general parser: Date.UTC maps them to 19xx.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || micros < 0) {
    return undefined;
  }
  if (day > daysInMonth(year, month)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second) * 1000 + micros;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form Python's pydantic emits for an aware UTC datetime. */
export function formatTimestampMicros(micros: number): string {
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
export function nowMicros(): number {
  const now = Date.now() * 1000;
  lastGeneratedMicros = now > lastGeneratedMicros ? now : lastGeneratedMicros + 1;
  return lastGeneratedMicros;
}
