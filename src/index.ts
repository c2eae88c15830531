/**
 * koi-net for TypeScript: the public API. Names follow the seed's Python API in camelCase
 * (NodeInterface, node.processor.handle, node.network.pushEventTo, ...); wire JSON stays snake_case.
 */
export * from './errors.ts';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.ts';
export * from './rid/index.ts';
export * from './protocol/index.ts';
export * from './knowledge/index.ts';
export * from './cache/index.ts';
export { NodeIdentity, type NodeIdentityOptions, type IdentityStorage } from './identity/index.ts';
export * from './network/index.ts';
export { Poller, type PollerOptions, type PeerPollState, type PollerNode } from './poller.ts';
export * from './processor/index.ts';
export { NodeInterface, type NodeInterfaceOptions, type NodeStorage } from './node.ts';
export { openPostgresStore, PgDatabase, PgKnowledgeStore, PgEventQueues, PgInbox, SCHEMA_VERSION, type PostgresStore, type PgDatabaseOptions } from './postgres/index.ts';
export { DataDirLock, DataDirLockedError, LOCK_FILE_NAME } from './data-dir-lock.ts';
export { type FirstContactRetryOptions, DEFAULT_FIRST_CONTACT_RETRY } from './network/first-contact.ts';
export { StartupCatchUp, type StartupCatchUpOptions, type ProviderCatchUp, type CatchUpFetcher } from './network/catch-up.ts';

export { findFreePort } from './free-port.ts';
export * from './server/index.ts';
export {
  createNodeHandlers,
  startFullNode,
  type NodeHandlers,
  type NodeHandlersOptions,
  type StartFullNodeOptions,
  type RunningFullNode,
} from './full-node.ts';
export * from './behaviours/index.ts';
export {
  loadConfig,
  defaultConfig,
  writeConfigTemplate,
  ConfigError,
  type KoiNetConfig,
  type NodeKind,
  type NodeRole,
} from './config/index.ts';
/** The signed protocol (1.1+): keys, pydantic-exact envelopes, signing and verification. Also `koi-net/secure`. */
export * as secure from './secure/index.ts';
