/**
 * Deepest nesting accepted in an event's `contents` (the contents object itself is level 1).
 * JSON.parse takes any depth, but later steps recurse (structuredClone in schema checks,
 * JSON.stringify for hashing and the inbox log, the signed serializer) and overflow the stack
 * somewhere between a few thousand and ten thousand levels, after part of a broadcast was applied.
 * The Python reference's json module gives up near its recursion limit (1000); real contents are
 * a handful of levels deep, so 100 leaves ample room and keeps every later step far from the stack.
 */
export const MAX_CONTENTS_DEPTH = 100;
/**
 * Deepest nesting of a whole request body: the contents limit plus what surrounds contents in the
 * deepest request, a signed broadcast (envelope > payload > events > event > contents).
 */
export const MAX_BODY_DEPTH = MAX_CONTENTS_DEPTH + 4;
/**
 * Nesting depth of a parsed JSON value (a scalar is 0, `{}` and `[]` are 1), counted without
 * recursion; stops at `max + 1` so a hostile value costs no more than the part up to the limit.
 */
export function nestingDepth(value, max) {
    if (value === null || typeof value !== 'object')
        return 0;
    let deepest = 0;
    const stack = [{ value, depth: 1 }];
    while (stack.length > 0) {
        const { value: cur, depth } = stack.pop();
        if (depth > deepest) {
            deepest = depth;
            if (deepest > max)
                return deepest;
        }
        const children = Array.isArray(cur) ? cur : Object.values(cur);
        for (const child of children) {
            if (child !== null && typeof child === 'object')
                stack.push({ value: child, depth: depth + 1 });
        }
    }
    return deepest;
}
function own(obj, key) {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || !Object.prototype.hasOwnProperty.call(obj, key))
        return undefined;
    return Object.getOwnPropertyDescriptor(obj, key)?.value;
}
/**
 * The request's nesting problems, as FastAPI detail items; empty when it may go on. Each event
 * of `events` (found at `eventsPath` in the body) whose contents are too deep is named by its
 * index, so the sender knows which event made the whole request fail; anything else too deep is
 * named at the event, or at the body.
 */
export function nestingProblems(body, eventsPath) {
    const items = [];
    let events = body;
    for (const key of eventsPath ?? [])
        events = own(events, key);
    if (eventsPath && Array.isArray(events)) {
        events.forEach((event, i) => {
            const loc = ['body', ...eventsPath, i];
            const contents = own(event, 'contents');
            if (nestingDepth(contents, MAX_CONTENTS_DEPTH) > MAX_CONTENTS_DEPTH) {
                items.push(tooDeep([...loc, 'contents'], `contents are nested deeper than ${MAX_CONTENTS_DEPTH} levels`, MAX_CONTENTS_DEPTH));
            }
            else if (nestingDepth(event, MAX_CONTENTS_DEPTH + 1) > MAX_CONTENTS_DEPTH + 1) {
                items.push(tooDeep(loc, `the event is nested deeper than ${MAX_CONTENTS_DEPTH + 1} levels`, MAX_CONTENTS_DEPTH + 1));
            }
        });
    }
    if (items.length === 0 && nestingDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
        items.push(tooDeep(['body'], `the body is nested deeper than ${MAX_BODY_DEPTH} levels`, MAX_BODY_DEPTH));
    }
    return items;
}
function tooDeep(loc, reason, max) {
    // No input echo: the input is the problem, and it may be megabytes of brackets.
    return { type: 'value_error', loc, msg: `Value error, ${reason}`, ctx: { max_depth: max } };
}
//# sourceMappingURL=nesting.js.map