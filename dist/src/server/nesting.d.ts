import type { ValidationDetailItem } from './errors.ts';
/**
 * Deepest nesting accepted in an event's `contents` (the contents object itself is level 1).
 * JSON.parse takes any depth, but later steps recurse (structuredClone in schema checks,
 * JSON.stringify for hashing and the inbox log, the signed serializer) and overflow the stack
 * somewhere between a few thousand and ten thousand levels, after part of a broadcast was applied.
 * The Python reference's json module gives up near its recursion limit (1000); real contents are
 * a handful of levels deep, so 100 leaves ample room and keeps every later step far from the stack.
 */
export declare const MAX_CONTENTS_DEPTH = 100;
/**
 * Deepest nesting of a whole request body: the contents limit plus what surrounds contents in the
 * deepest request, a signed broadcast (envelope > payload > events > event > contents).
 */
export declare const MAX_BODY_DEPTH: number;
/**
 * Nesting depth of a parsed JSON value (a scalar is 0, `{}` and `[]` are 1), counted without
 * recursion; stops at `max + 1` so a hostile value costs no more than the part up to the limit.
 */
export declare function nestingDepth(value: unknown, max: number): number;
/**
 * The request's nesting problems, as FastAPI detail items; empty when it may go on. Each event
 * of `events` (found at `eventsPath` in the body) whose contents are too deep is named by its
 * index, so the sender knows which event made the whole request fail; anything else too deep is
 * named at the event, or at the body.
 */
export declare function nestingProblems(body: unknown, eventsPath: readonly string[] | undefined): ValidationDetailItem[];
