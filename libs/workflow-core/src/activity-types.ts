import type {
  BatchRangeRef,
  CriterionName,
  EvaluationConfig,
  FineTuneConfig,
  ModelOutputKind,
  PlanConfig,
  ProscoreConfig,
  RecalibrationConfig,
  ScoringConfig,
} from './prune-types';

/** One scoring shard: a batch range for one layer shard (its groups are in the shard plan artifact). */
export interface ScoringShardRef {
  /** Merge position: layer shard major, then batch shard. */
  index: number;
  layerShard: number;
  batches: BatchRangeRef;
}

export interface PlanScoringShardsInput {
  modelArtifactId: string;
  criterion: CriterionName;
  scoring?: ScoringConfig;
  batchShards: number;
  layerShards: number;
}

export interface PlanScoringShardsOutput {
  /** JSON artifact: `{ layerShards: string[][] }`, the group ids of each layer shard. Absent without shards. */
  shardPlanArtifactId?: string;
  /** Empty for criteria that need no data (l1, l2, bn, random). */
  shards: ScoringShardRef[];
  /** Samples in the scoring data (absent without shards): each shard's images follow from it. */
  datasetSize?: number;
}

export interface ComputeGradStatsInput {
  /** Names the unit of work in logs (`<workflow id>/r<round>/s<index>`); does not change the result. */
  jobId: string;
  /** The run's kernel fingerprint: only workers reporting it take the call (absent: any worker). */
  fingerprint?: string;
  modelArtifactId: string;
  scoring: ScoringConfig;
  shardPlanArtifactId: string;
  shard: ScoringShardRef;
  /** The model's output kind; absent: 'auto'. */
  output?: ModelOutputKind;
}

export interface ComputeGradStatsOutput {
  /** Serialized GradStats (@ippro/importance). */
  statsArtifactId: string;
  count: number;
  lossSum: number;
  groupCount: number;
  statsBytes: number;
}

export interface MergeAndScoreInput {
  modelArtifactId: string;
  criterion: CriterionName;
  lambda?: number;
  /** How PROscore is read (not 'trajectory': see scoreTrajectory); absent: pooled, ascending. */
  proscore?: ProscoreConfig;
  /** Seeds the random criterion (the run's seed + the round, as @ippro/pruning's pruneLocally). */
  seed: number;
  scoring?: ScoringConfig;
  /** Per layer shard (in order), the batch shards' statistics (in order): merged in this order in float64. */
  statsArtifactIds: string[][];
}

export interface MergeAndScoreOutput {
  /** JSON artifact: `{ method, rows: [[id, score], ...] }` (non-finite scores as strings). */
  scoresArtifactId: string;
  groupCount: number;
  /** Mean scoring loss (gradient criteria only). */
  meanLoss?: number;
}

/** PROscore's trajectory reading of one model: one compute call over the scoring data in order. */
export interface ScoreTrajectoryInput {
  jobId: string;
  /** The run's kernel fingerprint: only workers reporting it take the call (absent: any worker). */
  fingerprint?: string;
  modelArtifactId: string;
  scoring: ScoringConfig;
  /** The run's lambda, the trajectory's default learning rate. */
  lambda?: number;
  /** Reading 'trajectory', with its steps and optimizer. */
  proscore: ProscoreConfig;
  /** The model's output kind; absent: 'auto'. */
  output?: ModelOutputKind;
}

/** Batches [start, end) of a recalibration pass (batch i as RecalibrationConfig says). */
export interface BatchNormStatisticsInput {
  jobId: string;
  /** The run's kernel fingerprint: only workers reporting it take the call (absent: any worker). */
  fingerprint?: string;
  modelArtifactId: string;
  recalibration: RecalibrationConfig;
  batches: BatchRangeRef;
  /** Seeds the shuffle that picks the batches. */
  seed: number;
  /** The model's output kind; absent: 'auto'. */
  output?: ModelOutputKind;
}

export interface BatchNormStatisticsOutput {
  /** JSON artifact: each BatchNormalization's batch mean and variance, batch by batch (@ippro/pruning's BatchNormStatistics). */
  statsArtifactId: string;
  batches: number;
  samples: number;
}

export interface RecalibrateModelInput {
  modelArtifactId: string;
  /** The pass's statistics, in shard order. */
  statsArtifactIds: string[];
}

export interface RecalibrateModelOutput {
  modelArtifactId: string;
}

export interface PlanRoundInput {
  originalModelArtifactId: string;
  modelArtifactId: string;
  /** Group ids removed by earlier rounds; absent before round 1. */
  removedArtifactId?: string;
  scoresArtifactId: string;
  plan: PlanConfig;
  round: number;
}

export interface PlanRoundOutput {
  /** JSON artifact of the planner's RemovalPlan. */
  planArtifactId: string;
  /** Group ids of this round (planner's, i.e. of the input model). */
  groupsThisRound: number;
  reachedGoal: boolean;
  reason?: string;
  removedFraction: number;
}

export interface ApplySurgeryInput {
  originalModelArtifactId: string;
  modelArtifactId: string;
  removedArtifactId?: string;
  planArtifactId: string;
}

export interface ApplySurgeryOutput {
  modelArtifactId: string;
  /** Cumulative removed group ids (earlier rounds + this plan). */
  removedArtifactId: string;
  removedTotal: number;
  params: number;
}

export interface FineTuneReplicaInput {
  jobId: string;
  /** The run's kernel fingerprint: only workers reporting it take the call (absent: any worker). */
  fingerprint?: string;
  startModelArtifactId: string;
  fineTune: FineTuneConfig;
  replica: { index: number; count: number };
  /** Global step of the first step: step s uses batch s mod B of the replica shard's epoch floor(s / B). */
  firstStep: number;
  /** The round's learning-rate decay over global steps [startStep, startStep + steps); absent: constant. */
  cosineDecay?: { startStep: number; steps: number };
  seed: number;
  /** The model's output kind; absent: 'auto'. */
  output?: ModelOutputKind;
  /** The teacher of fineTune.distillation: the run's input model. */
  teacherModelArtifactId?: string;
}

export interface FineTuneReplicaOutput {
  modelArtifactId: string;
  sampleCount: number;
  steps: number;
  lossSum: number;
}

export interface AverageModelsInput {
  /** In replica order; weighted by sampleCount. */
  models: { modelArtifactId: string; sampleCount: number }[];
}

export interface AverageModelsOutput {
  modelArtifactId: string;
}

export interface PlanEvaluationShardsInput {
  evaluation: EvaluationConfig;
  shards: number;
}

export interface PlanEvaluationShardsOutput {
  shards: BatchRangeRef[];
  /** Samples in the evaluation data: each shard's images follow from it. */
  datasetSize: number;
}

export interface EvaluateShardInput {
  jobId: string;
  /** The run's kernel fingerprint: only workers reporting it take the call (absent: any worker). */
  fingerprint?: string;
  modelArtifactId: string;
  evaluation: EvaluationConfig;
  batches: BatchRangeRef;
  /** The model's output kind; absent: 'auto'. */
  output?: ModelOutputKind;
}

/** Exact sums: they merge by addition. */
export interface EvaluationSumsRef {
  correct: number;
  lossSum: number;
  count: number;
}

export interface MergeEvaluationsInput {
  modelArtifactId: string;
  /** In shard order. */
  parts: EvaluationSumsRef[];
}

/** A model's size and its quality on the evaluation data. */
export interface MergeEvaluationsOutput {
  params: number;
  /** Multiply-accumulates per sample. */
  flops: number;
  channels: number;
  top1: number;
  loss: number;
  evaluated: number;
}

/** No input: the pool is asked what it computes with. */
export type PoolFingerprintInput = Record<string, never>;

export interface PoolFingerprintOutput {
  /**
   * The kernel fingerprint a new run keeps for all its compute calls: the one most of the
   * pool's slots report (@ippro/runtime's kernelFingerprint names a numeric path).
   */
  fingerprint: string;
  /**
   * What the workers with that fingerprint compute with: backend, intra-op threads and tfjs-core
   * version. Absent in answers recorded by older versions, and `tfjs` from workers that do not
   * report it.
   */
  backend?: string;
  threads?: number;
  tfjs?: string;
}

/**
 * The numeric path a run computed on, as its results record it: two runs of the same input on
 * the same numeric path give the same bytes. The fingerprint stands for the other three and for
 * the bytes the backend's kernels compute (two paths of the same names may still differ there,
 * e.g. on other CPU instruction sets or GPU kernels).
 */
export interface RunNumericPath {
  /** The kernel fingerprint every compute call of the run was pinned to. */
  fingerprint: string;
  /** The backend: "tensorflow-gpu", "tensorflow", "wasm" or "cpu". */
  backend: string;
  /** Intra-op threads of the backend (1 for wasm and cpu). */
  threads: number;
  /** The tfjs-core version. */
  tfjs: string;
}

/** An artifact a step cannot do without, and what it is to the run (for the error message). */
export interface ArtifactRoleRef {
  artifactId: string;
  /** e.g. "the input model", "the model round 2 starts from". */
  role: string;
}

export interface ArtifactCheckInput {
  artifacts: ArtifactRoleRef[];
}

export interface ArtifactCheckOutput {
  checked: number;
}

/**
 * The details of a NotFound or DataLoss failure caused by one missing or corrupted artifact
 * (ApplicationFailure details[0]).
 */
export interface LostArtifactDetails {
  artifactId: string;
}

/**
 * The activities of the pruneModel workflow. Every input and output is small JSON: ids of
 * artifacts and summaries. Implemented by @ippro/activities' createPruneActivities.
 */
export interface PruneActivities {
  planScoringShards(input: PlanScoringShardsInput): Promise<PlanScoringShardsOutput>;
  computeGradStats(input: ComputeGradStatsInput): Promise<ComputeGradStatsOutput>;
  mergeAndScore(input: MergeAndScoreInput): Promise<MergeAndScoreOutput>;
  scoreTrajectory(input: ScoreTrajectoryInput): Promise<MergeAndScoreOutput>;
  planRound(input: PlanRoundInput): Promise<PlanRoundOutput>;
  applySurgery(input: ApplySurgeryInput): Promise<ApplySurgeryOutput>;
  batchNormStatistics(input: BatchNormStatisticsInput): Promise<BatchNormStatisticsOutput>;
  recalibrateModel(input: RecalibrateModelInput): Promise<RecalibrateModelOutput>;
  fineTuneReplica(input: FineTuneReplicaInput): Promise<FineTuneReplicaOutput>;
  averageModels(input: AverageModelsInput): Promise<AverageModelsOutput>;
  planEvaluationShards(input: PlanEvaluationShardsInput): Promise<PlanEvaluationShardsOutput>;
  evaluateShard(input: EvaluateShardInput): Promise<EvaluationSumsRef>;
  mergeEvaluations(input: MergeEvaluationsInput): Promise<MergeEvaluationsOutput>;
  /** Verifies artifacts by hash; fails (NotFound / DataLoss, non-retryable) naming the first lost one and its role. */
  checkArtifacts(input: ArtifactCheckInput): Promise<ArtifactCheckOutput>;
  /** The kernel fingerprint a new run pins its compute calls to (see pinnedToFingerprint). */
  poolFingerprint(input: PoolFingerprintInput): Promise<PoolFingerprintOutput>;
}

export const PRUNE_ACTIVITY_NAMES: readonly (keyof PruneActivities)[] = [
  'planScoringShards',
  'computeGradStats',
  'mergeAndScore',
  'scoreTrajectory',
  'planRound',
  'applySurgery',
  'batchNormStatistics',
  'recalibrateModel',
  'fineTuneReplica',
  'averageModels',
  'planEvaluationShards',
  'evaluateShard',
  'mergeEvaluations',
  'checkArtifacts',
  'poolFingerprint',
];
