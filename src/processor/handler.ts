import { RIDType, type RID } from '../rid/index.ts';
import type { Bundle, Event, EventType, KnowledgeObject, KnowledgeSource, Manifest } from '../knowledge/index.ts';
import type { Logger } from '../logger.ts';
import type { ProcessorCache, ProcessorComponents, ProcessorGraph, ProcessorIdentity, ProcessorNetwork } from './components.ts';

/** The phases of the pipeline a handler can join. A closed set: the pipeline calls no others. */
export const HandlerType = {
  RID: 'RID',
  Manifest: 'Manifest',
  Bundle: 'Bundle',
  Network: 'Network',
  Final: 'Final',
} as const;
export type HandlerType = (typeof HandlerType)[keyof typeof HandlerType];

const HANDLER_TYPES: ReadonlySet<string> = new Set(Object.values(HandlerType));

export function isHandlerType(value: unknown): value is HandlerType {
  return typeof value === 'string' && HANDLER_TYPES.has(value);
}

/** Returned by a handler to end the whole pipeline for the current knowledge object. */
export const STOP_CHAIN: unique symbol = Symbol('koi-net.STOP_CHAIN');
export type StopChain = typeof STOP_CHAIN;

/** Nothing (kobj unchanged), a replacement kobj, or STOP_CHAIN. */
export type HandlerResult = void | undefined | KnowledgeObject | StopChain;

/** Everything `handle()` accepts: one piece of knowledge plus how it arrived. */
export interface HandleInput {
  rid?: RID | string;
  manifest?: Manifest;
  bundle?: Bundle;
  event?: Event;
  kobj?: KnowledgeObject;
  /** For rid/manifest/bundle; for an event it overrides the event's own type. */
  eventType?: EventType;
  /** Default INTERNAL, or EXTERNAL when `sourceNode` is given. */
  source?: KnowledgeSource;
  /** The peer this knowledge came from, when known; it never gets the resulting event back. */
  sourceNode?: RID | string;
  /** Await until the queue (including this kobj) has been processed. */
  flush?: boolean;
}

/** The part of the processor handlers may call back into. */
export interface KnowledgeProcessor {
  handle(input: HandleInput): Promise<void>;
  flushKobjQueue(): Promise<void>;
}

/**
 * What a handler sees of the node. Built per knowledge object, because `sourceNode` belongs to
 * one arrival, not to the processor (and a handler may replace the kobj, so it cannot live there).
 */
export interface HandlerContext {
  readonly cache: ProcessorCache;
  readonly identity: ProcessorIdentity;
  readonly graph: ProcessorGraph;
  readonly network: ProcessorNetwork;
  readonly processor: KnowledgeProcessor;
  readonly logger: Logger;
  /** The peer the current knowledge came from, if the server or poller knew it. */
  readonly sourceNode: string | undefined;
  /** The node's wire format, when its components say (ProcessorComponents.protocol). */
  readonly protocol?: ProcessorComponents['protocol'];
  /** Shortcut for `processor.handle()`, as the reference's `ctx.handle`. */
  handle(input: HandleInput): Promise<void>;
}

/**
 * `Promise<StopChain>` is listed on its own because TypeScript widens a unique symbol returned
 * from an async function to `symbol` unless the contextual type names it outside the union; with
 * it, `async (ctx, kobj) => { if (x) return STOP_CHAIN; return kobj; }` type-checks. (An async
 * arrow whose only result is STOP_CHAIN still needs `: Promise<HandlerResult>`.)
 */
export type HandlerFunction = (
  ctx: HandlerContext,
  kobj: KnowledgeObject,
) => HandlerResult | Promise<HandlerResult> | Promise<StopChain>;

export interface KnowledgeHandler {
  readonly handlerType: HandlerType;
  /** Called only for these RID types; undefined (or empty, as in the reference) = every type. */
  readonly ridTypes?: readonly RIDType[] | undefined;
  /** Called only for these incoming event types; undefined (or empty) = any, including none. */
  readonly eventTypes?: readonly EventType[] | undefined;
  readonly name?: string | undefined;
  readonly fn: HandlerFunction;
}

export interface HandlerOptions {
  ridTypes?: readonly (RIDType | string)[] | undefined;
  eventTypes?: readonly EventType[] | undefined;
  name?: string | undefined;
}

/**
 * Builds a handler, normalizing RID type strings once (so a typo fails at registration, not
 * silently never matching) and naming it after the function for log lines.
 */
export function createHandler(handlerType: HandlerType, options: HandlerOptions, fn: HandlerFunction): KnowledgeHandler {
  if (!isHandlerType(handlerType)) {
    throw new TypeError(`unknown handler type ${JSON.stringify(handlerType)}; expected one of ${[...HANDLER_TYPES].join(', ')}`);
  }
  return Object.freeze({
    handlerType,
    ridTypes: options.ridTypes?.map((t) => RIDType.of(t)),
    eventTypes: options.eventTypes ? [...options.eventTypes] : undefined,
    name: options.name ?? (fn.name || undefined),
    fn,
  });
}

/**
 * Handler functions of this library that never wait for the processor's queue (flushKobjQueue,
 * handle with flush, processKobj) from inside a kobj. While only such handlers are registered,
 * the processor need not track which code runs inside a kobj (see ProcessorInterface).
 */
const queueSafe = new WeakSet<HandlerFunction>();

/** Internal: declares `handler`'s function queue-safe (above); returns the handler. */
export function markQueueSafe<T extends KnowledgeHandler>(handler: T): T {
  queueSafe.add(handler.fn);
  return handler;
}

export function isQueueSafe(handler: KnowledgeHandler): boolean {
  return queueSafe.has(handler.fn);
}

/** The name used in logs. */
export function handlerName(handler: KnowledgeHandler): string {
  return handler.name ?? (handler.fn.name || `anonymous ${handler.handlerType} handler`);
}

/** Whether a handler's filters admit this kobj (empty filters admit everything, as in the reference). */
export function handlerMatches(handler: KnowledgeHandler, kobj: KnowledgeObject): boolean {
  if (handler.ridTypes && handler.ridTypes.length > 0) {
    const type = kobj.rid.type.toString();
    if (!handler.ridTypes.some((t) => t.toString() === type)) return false;
  }
  if (handler.eventTypes && handler.eventTypes.length > 0) {
    if (kobj.eventType === undefined || !handler.eventTypes.includes(kobj.eventType)) return false;
  }
  return true;
}
