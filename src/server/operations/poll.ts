import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import type { NodeView } from '../node-view.ts';

type PollBody = Parameters<KoiNetHandlers['pollEvents']>[0];
type PollAnswer = Awaited<ReturnType<KoiNetHandlers['pollEvents']>>;

/** POST /events/poll: drains the caller's poll queue (the app has capped `limit` already). */
export function pollOperation(node: Pick<NodeView, 'network'>, ready: Promise<void>): (body: PollBody) => Promise<PollAnswer> {
  return async (body) => {
    await ready;
    const { rid, limit } = body as { rid: string; limit?: number };
    const events = await node.network.flushPollQueue(rid, limit ?? 0);
    return { events: events.map((e) => e.toJSON()) } as PollAnswer;
  };
}
