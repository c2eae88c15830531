/**
 * What the server (operation handlers, pages, signed mode) reads of a node. NodeInterface
 * satisfies it; the server never imports node.ts, so it can be tested and composed on its own.
 * Everything but `initialized`, `protocol` and `logger` is valid only once the node is initialized
 * (the server waits for its `ready` promise before touching them).
 */
import type { KnowledgeStore } from '../cache/index.ts';
import type { InboxIntake } from '../inbox/index.ts';
import type { Logger } from '../logger.ts';
import type { NetworkGraph } from '../graph/index.ts';
import type { NetworkInterface } from '../network/network-interface.ts';
import type { EventQueues } from '../queues/index.ts';
import type { ProcessorInterface } from '../processor/index.ts';
import type { NodeProfile } from '../protocol/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
import type { NodeKeyPair } from '../secure/index.ts';
import type { ResponseHandler } from './operations/fetch-answers.ts';

/**
 * `unsigned`: the 1.0.x wire format (default). `signed`: koi-net 1.1+/2.x signed envelopes.
 * `both`: a bridge with a signed node's key; each request is answered in its own format and each
 * peer is called in its own (docs/VERSIONS.md).
 */
export type ProtocolMode = 'unsigned' | 'signed' | 'both';

export interface NodeView {
  readonly initialized: boolean;
  readonly protocol: ProtocolMode;
  readonly logger: Logger;
  readonly identity: { readonly rid: KoiNetNode; readonly profile: NodeProfile };
  readonly cache: KnowledgeStore;
  readonly graph: Pick<NetworkGraph, 'toJSON'>;
  readonly queues: Pick<EventQueues, 'depths'>;
  readonly network: Pick<NetworkInterface, 'deliveryStats' | 'flushPollQueue'>;
  readonly processor: Pick<ProcessorInterface, 'handle'>;
  /** The durable inbox, when the node has one: broadcasts are accepted through it. */
  readonly inbox: Pick<InboxIntake, 'accept'> | undefined;
  /** Signed mode: this node's key pair. */
  readonly keyPair: NodeKeyPair | undefined;
  /** The answers to the three fetch operations, from the node's cache. */
  readonly fetchAnswers: ResponseHandler;
  /** Processes everything accepted so far (through the inbox when there is one, so its checkpoint moves). */
  settle(): Promise<void>;
  initialize(): Promise<void>;
}
