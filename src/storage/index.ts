// The storage layer's front door: the ObjectStore interface, its local and memory stores, and
// openStore for URLs. WebHDFS loads lazily through openStore; its raw client is ./webhdfs/index.ts.

export { STORE_FAULTS_ENV } from './faults.ts';
export { LocalStore } from './local.ts';
export { MemoryStore } from './memory.ts';
export {
  cleanPath,
  joinPath,
  type ObjectInfo,
  type ObjectStore,
  type PutIfAbsentResult,
} from './object-store.ts';
export { openStore } from './open.ts';
export { type RetryOptions, withRetry } from './retry.ts';
export {
  type RetryingOptions,
  type StoreWait,
  stopWaitingOn,
  storeWaits,
  withStoreRetries,
} from './retrying.ts';
