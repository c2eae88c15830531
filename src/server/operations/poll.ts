import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import type { NodeView } from '../node-view.ts';
import type { RequestContext } from '../request-context.ts';
import { SerializedJson } from '../serialized.ts';
import { eventsPayloadText } from '../../knowledge/index.ts';

type PollBody = Parameters<KoiNetHandlers['pollEvents']>[0];
type PollAnswer = Awaited<ReturnType<KoiNetHandlers['pollEvents']>>;

/** POST /events/poll: drains the caller's poll queue (the app has capped `limit` already). */
export function pollOperation(node: Pick<NodeView, 'network'>, ready: Promise<void>): (body: PollBody) => Promise<PollAnswer> {
  return async (body, context: RequestContext = {}) => {
    await ready;
    const { rid, limit } = body as { rid: string; limit?: number };
    const events = await node.network.flushPollQueue(rid, limit ?? 0);
    // A signed answer is an envelope signed over the object; a plain one is the events' wire
    // texts, made once for every poller (eventWireText).
    if (context.sourceNode !== undefined) return { events: events.map((e) => e.toJSON()) } as PollAnswer;
    return new SerializedJson(eventsPayloadText(events)) as unknown as PollAnswer;
  };
}
