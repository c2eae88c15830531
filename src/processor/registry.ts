import { KnowledgeObject } from '../knowledge/index.ts';
import { debugEnabled, type Logger } from '../logger.ts';
import { kobjFields } from './log-fields.ts';
import {
  STOP_CHAIN,
  createHandler,
  handlerName,
  isQueueSafe,
  type HandlerContext,
  type HandlerType,
  type KnowledgeHandler,
  type StopChain,
} from './handler.ts';

/** Marks which handler threw, so the log line can name it. */
export class HandlerFailure extends Error {
  constructor(
    readonly handler: string,
    readonly handlerType: HandlerType,
    override readonly cause: unknown,
  ) {
    super(`${handlerType} handler ${handler} threw: ${String(cause)}`);
  }
}

interface ChainEntry {
  handler: KnowledgeHandler;
  ridTypes: ReadonlySet<string> | undefined;
  eventTypes: ReadonlySet<string> | undefined;
}

/**
 * The registered handlers and the chains they form, one per handler type. The pipeline calls a
 * chain for each of its steps; registration may happen at any time, even from inside a handler.
 */
export class HandlerRegistry {
  /** Replaced, never changed in place: a chain running while a handler registers another keeps its own list. */
  private handlers: readonly KnowledgeHandler[] = [];
  /** `handlers` by type, with their filters as sets: each chain checks only its own handlers. */
  private chains = new Map<HandlerType, readonly ChainEntry[]>();
  private queueUnsafe = false;

  constructor(private readonly logger: Logger) {}

  /** Registered handlers, in call order. */
  get list(): readonly KnowledgeHandler[] {
    return this.handlers;
  }

  /**
   * Whether a handler that may wait for the processor's queue from inside a kobj is registered
   * (one that is not the library's own, see markQueueSafe).
   */
  get hasQueueUnsafeHandler(): boolean {
    return this.queueUnsafe;
  }

  add(handler: KnowledgeHandler): KnowledgeHandler {
    // Re-validates through createHandler so hand-built objects get the same checks as registered ones.
    const normalized = createHandler(handler.handlerType, handler, handler.fn);
    this.handlers = [...this.handlers, normalized];
    const chain = this.chains.get(normalized.handlerType) ?? [];
    this.chains.set(normalized.handlerType, [...chain, chainEntry(normalized)]);
    if (!isQueueSafe(normalized)) this.queueUnsafe = true;
    return normalized;
  }

  /**
   * Runs the handlers of one type whose filters admit the kobj, in order: each may keep the kobj,
   * replace it or end the pipeline (STOP_CHAIN). A throw comes out as a HandlerFailure. The result
   * comes at once while every handler answers synchronously (the library's own do), and as a
   * promise from the first handler that returns one.
   */
  call(handlerType: HandlerType, kobj: KnowledgeObject, ctx: HandlerContext): KnowledgeObject | StopChain | Promise<KnowledgeObject | StopChain> {
    // The list is replaced on registration: a handler registering another does not change this chain.
    const entries = this.chains.get(handlerType);
    if (entries === undefined) return kobj;
    return this.runFrom(entries, 0, handlerType, kobj, ctx);
  }

  /** The chain `entries` from handler `from` on (see call). */
  private runFrom(
    entries: readonly ChainEntry[],
    from: number,
    handlerType: HandlerType,
    kobj: KnowledgeObject,
    ctx: HandlerContext,
  ): KnowledgeObject | StopChain | Promise<KnowledgeObject | StopChain> {
    for (let i = from; i < entries.length; i++) {
      const { handler, ridTypes, eventTypes } = entries[i]!;
      // handlerMatches, with the filters as sets (empty filters admit everything).
      if (ridTypes !== undefined && !ridTypes.has(kobj.rid.type.toString())) continue;
      if (eventTypes !== undefined && (kobj.eventType === undefined || !eventTypes.has(kobj.eventType))) continue;
      let result: unknown;
      try {
        result = handler.fn(ctx, kobj);
      } catch (err) {
        throw new HandlerFailure(handlerName(handler), handlerType, err);
      }
      if (isPromiseLike(result)) return this.callRest(entries, i, handlerType, kobj, ctx, result);
      const next = this.outcome(handler, handlerType, kobj, ctx, result);
      if (next === STOP_CHAIN) return STOP_CHAIN;
      kobj = next;
    }
    return kobj;
  }

  /** The chain from handler `i` on, once handler `i` returned a promise. */
  private async callRest(
    entries: readonly ChainEntry[],
    i: number,
    handlerType: HandlerType,
    kobj: KnowledgeObject,
    ctx: HandlerContext,
    pending: PromiseLike<unknown>,
  ): Promise<KnowledgeObject | StopChain> {
    const { handler } = entries[i]!;
    let result: unknown;
    try {
      result = await pending;
    } catch (err) {
      throw new HandlerFailure(handlerName(handler), handlerType, err);
    }
    const next = this.outcome(handler, handlerType, kobj, ctx, result);
    if (next === STOP_CHAIN) return STOP_CHAIN;
    // The rest of the chain, which may answer at once again.
    return this.runFrom(entries, i + 1, handlerType, next, ctx);
  }

  /** What a handler's (settled) result means for the chain; throws for a result of the wrong kind. */
  private outcome(handler: KnowledgeHandler, handlerType: HandlerType, kobj: KnowledgeObject, ctx: HandlerContext, result: unknown): KnowledgeObject | StopChain {
    if (result === STOP_CHAIN) {
      if (debugEnabled(this.logger)) this.logger.debug({ ...kobjFields(kobj, ctx.sourceNode), handler: handlerName(handler) }, `${handlerType} chain stopped`);
      return STOP_CHAIN;
    }
    if (result === undefined) return kobj;
    if (result instanceof KnowledgeObject) return result;
    throw new HandlerFailure(
      handlerName(handler),
      handlerType,
      new TypeError('a handler must return nothing, a KnowledgeObject or STOP_CHAIN'),
    );
  }
}

function chainEntry(handler: KnowledgeHandler): ChainEntry {
  const ridTypes = handler.ridTypes && handler.ridTypes.length > 0 ? new Set(handler.ridTypes.map((t) => t.toString())) : undefined;
  const eventTypes = handler.eventTypes && handler.eventTypes.length > 0 ? new Set<string>(handler.eventTypes) : undefined;
  return { handler, ridTypes, eventTypes };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
