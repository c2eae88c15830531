export { Cache } from './cache.ts';
export type { KnowledgeStore, CacheLogger, CacheOptions, StoreHealth } from './cache.ts';
export { cacheFileName, ridFromCacheFileName, MAX_FILE_NAME_BYTES, HASHED_NAME_PREFIX } from './file-name.ts';
