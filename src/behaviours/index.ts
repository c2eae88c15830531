/**
 * Behaviours every real network needs, built in so the CLI (and library users) can switch them
 * on without writing handlers: the coordinator's welcome and the contact/catch-up of new nodes.
 */
import type { KnowledgeHandler } from '../processor/index.ts';
import type { RidFetcher } from './contact.ts';
import { coordinatorHandlers, type CoordinatorHandlersOptions } from './coordinator.ts';
import { contactHandlers, type ContactHandlersOptions } from './contact.ts';

export { coordinatorHandlers, nodeProfileOf, type CoordinatorHandlersOptions } from './coordinator.ts';
export { contactHandlers, type ContactHandlersOptions, type RidFetcher } from './contact.ts';
export { proposedEdgeBundle, edgeCovers, NODE_TYPE, EDGE_TYPE } from './edge.ts';

export interface BehaviourSwitches {
  coordinator?: boolean | CoordinatorHandlersOptions;
  contact?: boolean | ContactHandlersOptions;
}

/**
 * What the behaviours need of a node (NodeInterface has it): a processor to add handlers to, and
 * the network's client, read per use since it exists only once the node is initialized.
 */
export interface BehaviourHost {
  readonly processor: { addHandler(handler: KnowledgeHandler): unknown };
  readonly network: { readonly requestHandler: RidFetcher };
}

/** Adds the switched-on behaviours to the node's processor (before or after initialize). */
export function installBehaviours(node: BehaviourHost, switches: BehaviourSwitches): void {
  const contact = switches.contact === true ? {} : switches.contact || undefined;
  const coordinator = switches.coordinator === true ? {} : switches.coordinator || undefined;
  // Both on: the welcome is the one proposal of the new node's edge, with the contact's extra types.
  const both = contact !== undefined && coordinator !== undefined;
  const handlers = [
    ...(coordinator ? coordinatorHandlers(both ? { extraRidTypes: contact.extraRidTypes, ...coordinator } : coordinator) : []),
    ...(contact
      ? contactHandlers({
          // Resolved per use: the network exists only once the node is initialized.
          fetcher: () => node.network.requestHandler,
          ...(both ? { welcomedByCoordinator: true } : {}),
          ...contact,
        })
      : []),
  ];
  for (const h of handlers) node.processor.addHandler(h);
}
