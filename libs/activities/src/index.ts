export type { ComputeCallOptions, ComputeExecutor } from './compute-executor';
export { InProcessExecutor, type InProcessExecutorOptions } from './in-process-executor';
export { averageModelArtifacts, type WeightedModel } from './average-models';
export { getJson, putJson, decodeNumber } from '@ippro/compute-core';
export { createPruneActivities, toActivityFailure, type PruneActivityDeps } from './prune-activities';
export { runPruneInProcess, type InProcessRunOptions } from './run-prune-in-process';
export { runCompareInProcess, type InProcessCompareOptions } from './run-compare-in-process';
export { GrpcExecutor, type GrpcExecutorOptions } from './grpc-executor';
export {
  WorkerPool,
  WorkerPoolSpecError,
  parseWorkerPool,
  resolveWorkerPool,
  type PooledWorker,
  type WorkerPoolSpec,
} from './worker-pool';
