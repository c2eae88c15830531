import type { ValidationDetailItem } from './errors.ts';

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
 * Nesting depth of a parsed JSON value (a scalar is 0, `{}` and `[]` are 1); stops at `max + 1`
 * so a hostile value costs no more than the part up to the limit, and so no deeper than that
 * on the stack.
 */
export function nestingDepth(value: unknown, max: number, skip?: object): number {
  if (value === null || typeof value !== 'object') return 0;
  // The request limits (~100) by recursion; any deeper limit on the explicit stack below.
  return max <= MAX_RECURSIVE_DEPTH ? depthBelow(value, 1, max, skip) : nestingDepthIterative(value, max, skip);
}

/** Deepest limit walked by recursion (a few hundred frames are far from the stack's end). */
const MAX_RECURSIVE_DEPTH = 1_000;

function nestingDepthIterative(value: unknown, max: number, skip?: object): number {
  if (value === null || typeof value !== 'object') return 0;
  let deepest = 0;
  const stack: { value: object; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: cur, depth } = stack.pop()!;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > max) return deepest;
    }
    const children = Array.isArray(cur) ? cur : Object.values(cur);
    for (const child of children) {
      // `skip` counts as a leaf: its caller measured what is inside it already.
      if (child !== null && typeof child === 'object' && child !== skip) stack.push({ value: child, depth: depth + 1 });
      else if (child === skip && depth + 1 > deepest) deepest = depth + 1;
    }
  }
  return deepest;
}


/**
 * The deepest level in `value` (itself at `depth`), stopping once past `max`. Recursive: the
 * depth of the recursion is bounded by `max + 1`, and it allocates nothing per level (the
 * explicit stack it replaced made an object per container, ~1 µs per broadcast event).
 */
function depthBelow(value: object, depth: number, max: number, skip: object | undefined): number {
  let deepest = depth;
  if (deepest > max) return deepest;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      deepest = deeperOf(value[i] as unknown, depth, deepest, max, skip);
      if (deepest > max) return deepest;
    }
    return deepest;
  }
  for (const key in value) {
    // JSON.parse makes own properties only; an inherited enumerable one is not the body's.
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    deepest = deeperOf((value as Record<string, unknown>)[key], depth, deepest, max, skip);
    if (deepest > max) return deepest;
  }
  return deepest;
}

function deeperOf(child: unknown, depth: number, deepest: number, max: number, skip: object | undefined): number {
  if (child === null || typeof child !== 'object') return deepest;
  // `skip` counts as a leaf: its caller measured what is inside it already.
  const d = child === skip ? depth + 1 : depthBelow(child, depth + 1, max, skip);
  return d > deepest ? d : deepest;
}

function own(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return Object.getOwnPropertyDescriptor(obj, key)?.value;
}

/**
 * The request's nesting problems, as FastAPI detail items; empty when it may go on. Each event
 * of `events` (found at `eventsPath` in the body) whose contents are too deep is named by its
 * index, so the sender knows which event made the whole request fail; anything else too deep is
 * named at the event, or at the body.
 */
export function nestingProblems(body: unknown, eventsPath: readonly string[] | undefined): ValidationDetailItem[] {
  const items: ValidationDetailItem[] = [];
  let events: unknown = body;
  for (const key of eventsPath ?? []) events = own(events, key);
  // Each event is walked once: contents are a child of the event, so an event within its limit
  // has contents within theirs, and only an event over it needs the second look that names the part.
  let deepestEvent = 0;
  const eventsArray = eventsPath && Array.isArray(events) ? (events as unknown[]) : undefined;
  if (eventsPath && eventsArray) {
    eventsArray.forEach((event: unknown, i) => {
      const depth = nestingDepth(event, MAX_CONTENTS_DEPTH + 1);
      if (depth > deepestEvent) deepestEvent = depth;
      if (depth <= MAX_CONTENTS_DEPTH + 1) return;
      const loc = ['body', ...eventsPath, i];
      if (nestingDepth(own(event, 'contents'), MAX_CONTENTS_DEPTH) > MAX_CONTENTS_DEPTH) {
        items.push(tooDeep([...loc, 'contents'], `contents are nested deeper than ${MAX_CONTENTS_DEPTH} levels`, MAX_CONTENTS_DEPTH));
      } else {
        items.push(tooDeep(loc, `the event is nested deeper than ${MAX_CONTENTS_DEPTH + 1} levels`, MAX_CONTENTS_DEPTH + 1));
      }
    });
  }
  // The events are measured: the body's walk skips into them (the array sits eventsPath.length + 1 deep).
  const bodyDepth =
    items.length > 0
      ? 0
      : eventsArray && eventsPath
        ? Math.max(nestingDepth(body, MAX_BODY_DEPTH, eventsArray), eventsPath.length + 1 + deepestEvent)
        : nestingDepth(body, MAX_BODY_DEPTH);
  if (items.length === 0 && bodyDepth > MAX_BODY_DEPTH) {
    items.push(tooDeep(['body'], `the body is nested deeper than ${MAX_BODY_DEPTH} levels`, MAX_BODY_DEPTH));
  }
  return items;
}

function tooDeep(loc: (string | number)[], reason: string, max: number): ValidationDetailItem {
  // No input echo: the input is the problem, and it may be megabytes of brackets.
  return { type: 'value_error', loc, msg: `Value error, ${reason}`, ctx: { max_depth: max } };
}
