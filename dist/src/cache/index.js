export { Cache } from "./cache.js";
export { cacheFileName, ridFromCacheFileName, MAX_FILE_NAME_BYTES, HASHED_NAME_PREFIX } from "./file-name.js";
//# sourceMappingURL=index.js.map