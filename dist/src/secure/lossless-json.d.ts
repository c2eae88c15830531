/**
 * A JSON number kept as its source text. JSON.parse turns `1.0` into `1` and rounds
 * 18446744073709551616, yet a Python peer prints them back as `1.0` and the exact integer, and
 * those printed bytes are what it signed.
 */
export declare class LosslessNumber {
    readonly text: string;
    constructor(text: string);
    /** Python's json/jiter rule: no fraction and no exponent means int, anything else float. */
    get isInteger(): boolean;
    valueOf(): number;
    toJSON(): number;
}
/**
 * JSON data with number text and key order intact. Objects are Maps because a plain JS object
 * moves integer-like keys ("10", "2") to the front, while Python dicts keep the order received.
 */
export type LosslessValue = null | boolean | string | LosslessNumber | LosslessValue[] | LosslessObject;
export type LosslessObject = Map<string, LosslessValue>;
/**
 * Strict RFC 8259 parser keeping numbers as LosslessNumber and objects as ordered Maps. A repeated
 * key keeps its first position and its last value, exactly as a Python dict fills up.
 */
export declare function parseLosslessJson(text: string): LosslessValue;
export declare function isLosslessObject(value: unknown): value is LosslessObject;
/**
 * The plain JSON.parse-like form (numbers as doubles, objects as plain objects) for the parts of
 * the library that work on ordinary JSON. Keys are defined, not assigned, so `__proto__` stays data.
 */
export declare function losslessToPlain(value: LosslessValue): unknown;
