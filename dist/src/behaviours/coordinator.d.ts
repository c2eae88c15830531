import { type KnowledgeHandler } from '../processor/index.ts';
import { type NodeProfile } from '../protocol/index.ts';
import type { KnowledgeObject } from '../knowledge/index.ts';
export interface CoordinatorHandlersOptions {
    /** RID types offered on the edge; default node and edge. */
    ridTypes?: readonly string[];
}
/**
 * Handlers (Network phase, `orn:koi-net.node`, incoming NEW) to add with `processor.addHandler`.
 *
 * Edge direction as in the reference's basic_coordinator_node: source = the new node (it provides
 * the events), target = this coordinator, WEBHOOK (the coordinator is a full node, so even a partial
 * node can deliver to it). The new node is the source, so its default bundle handler approves the
 * edge and sends the APPROVED bundle back. The edge is handled here as internal knowledge, so the
 * default network handler delivers the proposal to the new node ("involves me").
 */
export declare function coordinatorHandlers(options?: CoordinatorHandlersOptions): KnowledgeHandler[];
/** The node profile a node kobj carries, or undefined when the contents are not one. */
export declare function nodeProfileOf(kobj: KnowledgeObject): NodeProfile | undefined;
