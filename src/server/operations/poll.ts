import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import type { Logger } from '../../logger.ts';
import { isKeyBoundNodeRid } from '../../secure/unsigned-trust.ts';
import type { NodeView } from '../node-view.ts';
import type { RequestContext } from '../request-context.ts';
import { SerializedJson } from '../serialized.ts';
import { eventsPayloadBytes } from '../../queues/index.ts';

type PollBody = Parameters<KoiNetHandlers['pollEvents']>[0];
type PollAnswer = Awaited<ReturnType<KoiNetHandlers['pollEvents']>>;

/**
 * POST /events/poll: drains the caller's poll queue (the app has capped `limit` already). On a
 * bridge, a plain-body poll naming a signed node's RID drains nothing: anyone can write that RID
 * in a plain body, and the signed node itself polls in envelopes (secure/unsigned-trust.ts).
 */
export function pollOperation(
  node: Pick<NodeView, 'network' | 'protocol'>,
  ready: Promise<void>,
  logger?: Logger,
): (body: PollBody, context?: RequestContext) => Promise<PollAnswer> {
  return async (body, context = {}) => {
    await ready;
    const { rid, limit } = body as { rid: string; limit?: number };
    if (node.protocol === 'both' && !context.sourceNode && isKeyBoundNodeRid(rid)) {
      logger?.warn({ rid }, "unsigned poll for a signed node's queue answered empty");
      return { events: [] } as PollAnswer;
    }
    const events = await node.network.flushPollQueue(rid, limit ?? 0);
    // A signed answer is an envelope signed over the object; a plain one is the events' wire
    // bytes, encoded once for every poller and subscriber (queues/wire.ts), in one buffer.
    if (context.sourceNode !== undefined) return { events: events.map((e) => e.toJSON()) } as PollAnswer;
    return new SerializedJson(eventsPayloadBytes(events)) as unknown as PollAnswer;
  };
}
