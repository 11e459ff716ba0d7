export { type PoolRunOptions, WorkerPool, type WorkerPoolOptions } from './pool.js';
export type { PoolError, PoolJob, PoolKind, PoolResult, PoolStatus } from './protocol.js';
