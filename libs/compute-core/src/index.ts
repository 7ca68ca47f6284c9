export type {
  BatchNormStatisticsCall,
  BatchNormStatisticsCallResult,
  CallContext,
  DistillationCall,
  ComputeProgress,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  FineTuneShard,
  GradStatsCall,
  GradStatsCallResult,
  ReplicaRef,
  ScoreTrajectoryCall,
  ScoreTrajectoryCallResult,
  SgdCallSettings,
} from './calls';
export { ComputeInputError, type ComputeInputErrorType } from './compute-input-error';
export { replicaRange, shardDataset } from './checks';
export { DATASET_REF_SCHEMES, DatasetResolver, type DatasetResolverOptions, type DatasetShape, type ResolvedDataset } from './dataset-resolver';
export { ModelPool, type ModelUse, type PooledModel } from './model-pool';
export { getModel, putModel } from './model-store';
export {
  computeBatchNormStatistics,
  computeGradStats,
  computeTrajectoryScores,
  createComputeDeps,
  evaluate,
  fineTune,
  type ComputeDeps,
  type ComputeDepsOptions,
} from './operations';
export { decodeNumber, getJson, putJson } from './json-artifacts';
export { getScores, putScores } from './scores-document';
