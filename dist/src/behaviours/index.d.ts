/**
 * Behaviours every real network needs, built in so the CLI (and library users) can switch them
 * on without writing handlers: the coordinator's welcome and the contact/catch-up of new nodes.
 */
import type { NodeInterface } from '../node.ts';
import { type CoordinatorHandlersOptions } from './coordinator.ts';
import { type ContactHandlersOptions } from './contact.ts';
export { coordinatorHandlers, nodeProfileOf, type CoordinatorHandlersOptions } from './coordinator.ts';
export { contactHandlers, type ContactHandlersOptions, type RidFetcher } from './contact.ts';
export { proposedEdgeBundle, edgeCovers, NODE_TYPE, EDGE_TYPE } from './edge.ts';
export interface BehaviourSwitches {
    coordinator?: boolean | CoordinatorHandlersOptions;
    contact?: boolean | ContactHandlersOptions;
}
/** Adds the switched-on behaviours to the node's processor (before or after initialize). */
export declare function installBehaviours(node: NodeInterface, switches: BehaviourSwitches): void;
