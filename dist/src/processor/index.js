export { HandlerType, STOP_CHAIN, createHandler, handlerMatches, handlerName, isHandlerType, } from "./handler.js";
export { ProcessorInterface } from "./interface.js";
export { basicManifestHandler, basicNetworkOutputFilter, basicRidHandler, defaultHandlers, edgeNegotiationHandler, forgetNodeHandler, secureProfileHandler, } from "./default-handlers.js";
//# sourceMappingURL=index.js.map