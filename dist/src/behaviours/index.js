import { coordinatorHandlers } from "./coordinator.js";
import { contactHandlers } from "./contact.js";
export { coordinatorHandlers, nodeProfileOf } from "./coordinator.js";
export { contactHandlers } from "./contact.js";
export { proposedEdgeBundle, edgeCovers, NODE_TYPE, EDGE_TYPE } from "./edge.js";
/** Adds the switched-on behaviours to the node's processor (before or after initialize). */
export function installBehaviours(node, switches) {
    const handlers = [
        ...(switches.coordinator ? coordinatorHandlers(switches.coordinator === true ? {} : switches.coordinator) : []),
        ...(switches.contact
            ? contactHandlers({
                // Resolved per use: the network exists only once the node is initialized.
                fetcher: () => node.network.requestHandler,
                ...(switches.contact === true ? {} : switches.contact),
            })
            : []),
    ];
    for (const h of handlers)
        node.processor.addHandler(h);
}
//# sourceMappingURL=index.js.map