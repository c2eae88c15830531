export { Cache } from './cache.ts';
export type { CacheOptions } from './cache.ts';
export type { KnowledgeStore, CacheLogger, StoreHealth } from './store.ts';
export { cacheFileName, ridFromCacheFileName, MAX_FILE_NAME_BYTES, HASHED_NAME_PREFIX } from './file-name.ts';
