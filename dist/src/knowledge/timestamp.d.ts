/**
 * ISO 8601 timestamps as the reference reads and writes them. Python keeps microseconds, JS Dates
 * only milliseconds, so times are compared as integer microseconds since the epoch (safe as a
 * double until the year 2255).
 */
/**
 * Microseconds since the epoch, or undefined when `text` is not a date-time Python's
 * `datetime.fromisoformat` would take. Fractions beyond microseconds are truncated (Python keeps
 * six digits); a timestamp without offset is read as UTC so that it still orders.
 */
export declare function parseTimestampMicros(text: string): number | undefined;
/** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form Python's pydantic emits for an aware UTC datetime. */
export declare function formatTimestampMicros(micros: number): string;
/**
 * Now, in microseconds, strictly increasing within this process. The clock only has millisecond
 * resolution; without the bump two updates of one RID in the same millisecond would carry equal
 * timestamps and peers would drop the second as "not newer".
 */
export declare function nowMicros(): number;
