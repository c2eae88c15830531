/**
 * koi-net for TypeScript: the public API. Names follow the seed's Python API in camelCase
 * (NodeInterface, node.processor.handle, node.network.pushEventTo, ...); wire JSON stays snake_case.
 */
export * from "./errors.js";
export { createLogger, silentLogger } from "./logger.js";
export * from "./rid/index.js";
export * from "./protocol/index.js";
export * from "./knowledge/index.js";
export * from "./cache/index.js";
export { NodeIdentity } from "./identity/index.js";
export * from "./network/index.js";
export { Poller } from "./network/poller.js";
export * from "./processor/index.js";
export { NodeInterface } from "./node.js";
export { DataDirLock, DataDirLockedError, LOCK_FILE_NAME } from "./data-dir-lock.js";
export { DEFAULT_FIRST_CONTACT_RETRY } from "./network/first-contact.js";
export { findFreePort } from "./free-port.js";
export * from "./server/index.js";
export { createNodeHandlers, startFullNode, } from "./full-node.js";
export * from "./behaviours/index.js";
export { loadConfig, defaultConfig, writeConfigTemplate, ConfigError, } from "./config/index.js";
/** The signed protocol (1.1+): keys, pydantic-exact envelopes, signing and verification. Also `koi-net/secure`. */
export * as secure from "./secure/index.js";
//# sourceMappingURL=index.js.map