export { CRITERIA, parseCriterion, needsGradientStats, scoreByCriterion, statsReading, trajectoryOptions } from './criteria';
export type { Criterion, CriterionInputs, ResolvedTrajectory, StatsReading, TrajectoryContext } from './criteria';
export { PruningInputError } from './pruning-input-error';
export { contiguousSplit } from '@ippro/workflow-core';
export type { IndexRange } from '@ippro/workflow-core';
export { batchShards } from './batch-shards';
export type { BatchRange } from './batch-shards';
export { layerShards } from './layer-shards';
export { datasetBatches } from './dataset-batches';
export type { BatchSettings } from './dataset-batches';
export { computeShard, computeShardedGradStats, scoringShards } from './sharded-grad-stats';
export type { ScoringSettings, ScoringShard } from './sharded-grad-stats';
export { scoreModel, scoreTrajectory } from './score-model';
export type { ScoreModelSettings, TrajectoryHooks } from './score-model';
export { fineTune, fineTuneWithHooks } from './fine-tune';
export type { FineTuneHooks, FineTuneResult, FineTuneSettings } from './fine-tune';
export {
  applyBatchNormStatistics,
  batchNormStatistics,
  concatBatchNormStatistics,
  deserializeBatchNormStatistics,
  recalibratedMoments,
  recalibrateBatchNorm,
  recalibrationBatches,
  serializeBatchNormStatistics,
} from './batch-norm-recalibration';
export type { BatchNormStatistics } from './batch-norm-recalibration';
