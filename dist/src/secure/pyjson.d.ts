/**
 * serde_json escapes `"`, `\`, and C0 controls (\b \t \n \f \r short, the rest `\u00xx` in lower
 * case) and leaves everything else raw, which is exactly JSON.stringify, except that Python
 * cannot encode a lone surrogate at all (PydanticSerializationError), so neither do we.
 */
export declare function pyJsonString(s: string, path?: string): string;
/**
 * A finite double in ryu's `format64` layout, which pydantic-core uses for floats: decimal
 * notation while the integer part has at most 16 digits and the value is at least 1e-5,
 * otherwise `d.ddde<exp>` with no `+` and no zero padding; integral values keep `.0`.
 * Digits come from toExponential(), which like ryu yields the shortest round-tripping digits.
 */
export declare function pyFloatRepr(n: number, path?: string): string;
/**
 * What a Python peer prints for a number that arrived as `text`: Python reads digits-only text as
 * an int (printed back exactly, `-0` as `0`) and anything with `.`/`e` as a float.
 */
export declare function pyNumberFromText(text: string, path?: string): string;
/**
 * A JS number as a Python peer reprints it after reading our JSON.stringify-style text:
 * integral values below 1e21 are written without `.`/`e`, so Python sees an int; the rest are
 * floats. Printing that form directly keeps our bytes stable under Python's re-serialization.
 */
export declare function pyNumberFromJs(n: number, path?: string): string;
/**
 * Prints any JSON-like value as pydantic prints a `dict[str, Any]` member. Accepts plain JSON,
 * bigints, LosslessNumber and Maps (from parseLosslessJson); objects with toJSON are printed as
 * what toJSON returns, and undefined members are dropped, both as JSON.stringify would.
 */
export declare function pyJsonDumps(value: unknown, path?: string): string;
