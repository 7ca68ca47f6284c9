export type {
  CallContext,
  ComputeProgress,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  FineTuneShard,
  GradStatsCall,
  GradStatsCallResult,
  ReplicaRef,
  SgdCallSettings,
} from './calls';
export { ComputeInputError, type ComputeInputErrorType } from './compute-input-error';
export { replicaRange, shardDataset } from './checks';
export { DATASET_REF_SCHEMES, DatasetResolver, type DatasetResolverOptions, type DatasetShape, type ResolvedDataset } from './dataset-resolver';
export { ModelPool, type ModelUse, type PooledModel } from './model-pool';
export { getModel, putModel } from './model-store';
export { computeGradStats, createComputeDeps, evaluate, fineTune, type ComputeDeps, type ComputeDepsOptions } from './operations';
