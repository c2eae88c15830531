export { NetworkGraph } from "./graph.js";
export * from "./queues.js";
export { RequestHandler } from "./request-handler.js";
export { ResponseHandler } from "./response-handler.js";
export { NetworkInterface } from "./network-interface.js";
//# sourceMappingURL=index.js.map