/**
 * The node's answers to the five operations: what the app (server/app.ts) dispatches to once a
 * request passed routing, the body codec and the contract.
 */
import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import type { Logger } from '../../logger.ts';
import type { NodeView } from '../node-view.ts';
import { broadcastOperation } from './broadcast.ts';
import { pollOperation } from './poll.ts';
import { fetchOperations } from './fetch.ts';

export { ResponseHandler } from './fetch-answers.ts';

export interface NodeHandlersOptions {
  /**
   * Requests wait for this before touching the node, so the server can listen before
   * `node.initialize()` finishes (peers answering our first-contact handshake are then served).
   */
  ready?: Promise<void>;
  logger?: Logger;
}

/** The endpoint handlers plus a way to wait for the background flushes they started. */
export interface NodeHandlers extends KoiNetHandlers {
  /** Resolves when every background flush started so far has ended (for shutdown). */
  idle(): Promise<void>;
}

export function createNodeHandlers(node: NodeView, options: NodeHandlersOptions = {}): NodeHandlers {
  const logger = options.logger ?? node.logger.child({ component: 'endpoints' });
  const ready = options.ready ?? Promise.resolve();
  const broadcast = broadcastOperation(node, ready, logger);
  return {
    broadcastEvents: broadcast.broadcastEvents,
    pollEvents: pollOperation(node, ready, logger),
    ...fetchOperations(node, ready),
    idle: broadcast.idle,
  };
}
