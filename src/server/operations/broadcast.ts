/**
 * POST /events/broadcast: read every event (all or nothing, as the reference's request
 * validation), hand them to the inbox (or the processor), answer, and settle the node in the
 * background. A burst of broadcasts shares the settle that is already waiting.
 */
import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import { Event, KnowledgeSource, type EventWire } from '../../knowledge/index.ts';
import { KoiNetError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { Yielder } from '../../util/slices.ts';
import { namedErrorText } from '../../util/error-text.ts';
import { acceptedEventsOf, isContractChecked, rawBodyOf } from '../checked-body.ts';
import { HttpProblem, badInputDetail, isBadInputError, type ValidationDetailItem } from '../errors.ts';
import type { RequestContext } from '../request-context.ts';
import type { NodeView } from '../node-view.ts';
import type { KoiNetNode } from '../../rid/index.ts';
import { unsignedEventRefusal } from '../../secure/unsigned-trust.ts';

type BroadcastBody = Parameters<KoiNetHandlers['broadcastEvents']>[0];
type BroadcastAnswer = Awaited<ReturnType<KoiNetHandlers['broadcastEvents']>>;

export interface BroadcastOperation {
  broadcastEvents(body: BroadcastBody, context?: RequestContext): Promise<BroadcastAnswer>;
  /** Resolves when every background settle started so far has ended (for shutdown). */
  idle(): Promise<void>;
}

export function broadcastOperation(node: Pick<NodeView, 'inbox' | 'processor' | 'settle' | 'protocol' | 'identity'>, ready: Promise<void>, logger: Logger): BroadcastOperation {
  const inFlight = new Set<Promise<void>>();
  // A settle already waiting behind the running one covers every event accepted meanwhile, so a
  // burst of broadcasts costs at most two settles instead of one per request.
  let pending: Promise<void> | undefined;

  const settleInBackground = (): void => {
    if (pending) return;
    const running = [...inFlight];
    const task: Promise<void> = Promise.allSettled(running)
      .then(async () => {
        pending = undefined;
        await node.settle();
      })
      .catch((err: unknown) => {
        logger.error({ err: namedErrorText(err) }, 'background flush of broadcast events failed');
      })
      .finally(() => {
        inFlight.delete(task);
      });
    pending = task;
    inFlight.add(task);
  };

  return {
    async broadcastEvents(body, context = {}) {
      await ready;
      const wires = (body as { events: unknown[] }).events;
      logger.debug({ count: wires.length }, 'events broadcast to this node');
      // Built by the server's exact check when it accepted the body, else read here.
      const read = (acceptedEventsOf(body) as Event[] | undefined) ?? (await readEvents(wires, isContractChecked(body), logger));
      // A bridge takes from plain bodies only what unsigned peers may say (secure/unsigned-trust.ts).
      const taken = node.protocol === 'both' && !context.sourceNode ? trustedUnsigned(read, wires, node.identity.rid, logger) : { events: read, wires };
      const events = taken.events;
      const inbox = node.inbox;
      if (inbox) {
        // The 200 waits for the batch to be in the inbox log: acknowledged means recoverable.
        await inbox.accept(events, taken.wires, taken.wires === wires ? rawBodyOf(body) : undefined);
      } else {
        for (const event of events) {
          try {
            // Signed mode knows the sender, so the processor can avoid echoing events back to it.
            await node.processor.handle({ event, source: KnowledgeSource.EXTERNAL, ...(context.sourceNode ? { sourceNode: context.sourceNode } : {}) });
          } catch (err) {
            logger.warn({ err: namedErrorText(err), rid: String(event.rid) }, 'dropped a broadcast event');
          }
        }
      }
      settleInBackground();
      return null as BroadcastAnswer;
    },

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** The events (and their wires) a bridge takes from an unsigned broadcast; the rest is logged and ignored. */
function trustedUnsigned(events: Event[], wires: unknown[], self: KoiNetNode, logger: Logger): { events: Event[]; wires: unknown[] } {
  const kept: Event[] = [];
  const keptWires: unknown[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const refusal = unsignedEventRefusal(event, self);
    if (refusal === undefined) {
      kept.push(event);
      keptWires.push(wires[i]);
    } else {
      logger.warn({ rid: String(event.rid), eventType: event.eventType, reason: refusal }, 'ignored an event of an unsigned broadcast');
    }
  }
  return kept.length === events.length ? { events, wires } : { events: kept, wires: keptWires };
}

/**
 * All or nothing: a 200 must mean every event was taken, so one event that cannot be read refuses
 * the request (422 naming it) before anything is applied. A body the app checked against the
 * contract already is read without checking it again.
 */
async function readEvents(wires: unknown[], checked: boolean, logger: Logger): Promise<Event[]> {
  const events: Event[] = [];
  const refused: ValidationDetailItem[] = [];
  // Reading a raised-limit batch (100k events) takes about a second: slice it so other requests
  // are answered meanwhile.
  const yielder = new Yielder();
  for (let i = 0; i < wires.length; i++) {
    const pause = yielder.maybeYield();
    if (pause) await pause;
    try {
      events.push(checked ? Event.fromValidJSON(wires[i] as EventWire) : Event.fromJSON(wires[i]));
    } catch (err) {
      refused.push(refusedEventDetail(i, err));
    }
  }
  if (refused.length > 0) {
    logger.info({ refused: refused.map((r) => r.loc[2]), count: wires.length, reason: refused[0]!.msg }, 'refused a broadcast: an event cannot be taken');
    throw HttpProblem.validation(refused);
  }
  return events;
}

/** Event `i` of a broadcast named in FastAPI's shape, with the reason it cannot be taken. */
function refusedEventDetail(i: number, err: unknown): ValidationDetailItem {
  if (err instanceof KoiNetError && isBadInputError(err)) {
    const [first] = badInputDetail(err);
    if (first) return { ...first, loc: ['body', 'events', i, ...first.loc.slice(1)] };
  }
  // Anything else (e.g. a stack overflow on a value the server's checks let through) is still
  // about this event's input: a 422 naming it, never a 200 that dropped it.
  return { type: 'value_error', loc: ['body', 'events', i], msg: `Value error, ${namedErrorText(err)}` };
}
