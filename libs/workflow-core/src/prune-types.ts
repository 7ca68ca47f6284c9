/**
 * The pruneModel workflow's input, progress and result, shared by the workflow, its activities,
 * the orchestrator and the CLI. Everything here is small JSON: tensors, models, gradient sums and
 * group lists travel as artifacts named by sha256, never through Temporal.
 */

import type { MergeEvaluationsOutput, RunNumericPath } from './activity-types';
import type { AdamWSettings } from './optimizer-settings';
import type { PhaseWork, RoundTiming, TimedPhase } from './run-timing';

/**
 * The importance criteria: the one registry every list of them (flags, help, workflow checks,
 * @ippro/pruning's CRITERIA, the report) is read from.
 */
export const CRITERION_NAMES = ['proscore', 'l1', 'l2', 'taylor', 'taylor-batch', 'fisher', 'bn', 'group-norm', 'lamp', 'fpgm', 'random'] as const;

export type CriterionName = (typeof CRITERION_NAMES)[number];

/** Criteria that score from gradient statistics and so need scoring data (@ippro/pruning's needsGradientStats). */
export const GRADIENT_CRITERION_NAMES: readonly CriterionName[] = ['proscore', 'taylor', 'taylor-batch', 'fisher'];

/** How PROscore is read (docs/ippro.md section 3): @ippro/importance's ProscoreReading. */
export const PROSCORE_READINGS = ['pooled', 'per-batch', 'trajectory'] as const;
export type ProscoreReadingName = (typeof PROSCORE_READINGS)[number];

/** Which end of the PROscore ranking goes first: @ippro/importance's RemovalOrder. */
export const REMOVAL_ORDERS = ['ascending', 'descending'] as const;
export type RemovalOrderName = (typeof REMOVAL_ORDERS)[number];

/** The trajectory reading's optimizer: T real SGD steps over the scoring data in dataset order. */
export interface TrajectoryConfig {
  /** T: steps, one scoring batch each, batches 0..T-1 in order. Default: every batch of the scoring data. */
  steps?: number;
  /** Default the run's lambda: with T = 1 and no weight decay the score is then the first batch's pooled PROscore. */
  learningRate?: number;
  /** Default 0.9, as fine-tuning's SGD. */
  momentum?: number;
}

/** How PROscore is read; every field absent is the default reading (pooled, ascending, no weight decay). */
export interface ProscoreConfig {
  reading?: ProscoreReadingName;
  order?: RemovalOrderName;
  /** The training objective's L2 penalty on kernels in the scoring loss (and the trajectory's objective); default 0. */
  weightDecay?: number;
  /** Reading 'trajectory' only. */
  trajectory?: TrajectoryConfig;
}

/** SGD fine-tuning's default weight decay (an L2 penalty on kernels only), and that of `proscore:wd` in a comparison. */
export const FINE_TUNE_WEIGHT_DECAY = 5e-4;

export type TargetMetricName = 'params' | 'flops' | 'channels';

/**
 * What a model's output holds, which picks its loss and accuracy (@ippro/models' OutputSetting):
 * 'auto' reads it from the model's last layer. Starters resolve it from the model and send the
 * kind; absent means 'auto'.
 */
export type ModelOutputKind = 'auto' | 'probabilities' | 'logits' | 'sigmoid';

export const MODEL_OUTPUT_KINDS: readonly ModelOutputKind[] = ['auto', 'probabilities', 'logits', 'sigmoid'];

/**
 * What a run's accuracy counts, as its tables label it: the top-1 class for probabilities and
 * logits; for a sigmoid an exact match (every unit, thresholded at 0.5, equals its label).
 */
export function accuracyName(output: ModelOutputKind | undefined): 'top-1' | 'exact match' {
  return output === 'sigmoid' ? 'exact match' : 'top-1';
}

/** A dataset every executor resolves by itself: a spec (`synthetic:cifar?n=48&seed=1&classes=10`, `cifar10:train`) or a dataset artifact. */
export interface DatasetRef {
  /** Canonical spec text without a sample range; with `artifactId` it only names the data. */
  spec: string;
  /** sha256 of a dataset artifact (@ippro/model-artifact `IPDS`); read instead of `spec`. */
  artifactId?: string;
  /** Only `size` samples of the data, drawn by `seed` (@ippro/data's drawSamples); absent: every sample. */
  draw?: SampleDraw;
}

/** `size` samples drawn without replacement by `seed`, kept in dataset order. */
export interface SampleDraw {
  size: number;
  seed: number;
}

/** A half-open range [start, end) of batch indices of the unshuffled dataset. */
export interface BatchRangeRef {
  start: number;
  end: number;
}

export interface ScoringConfig {
  dataset: DatasetRef;
  batchSize: number;
  /** Default 'inference' (IPPRO.md §4). */
  batchNormMode?: 'inference' | 'batch';
  /** Default false. */
  includeBias?: boolean;
}

/**
 * Fine-tuning by local SGD: `replicas` replicas each train K = `steps` optimizer steps from the same
 * start model on their contiguous share of the data; their weights are averaged by sample count;
 * that is repeated M = `repetitions` times per round. The replica count is configuration, not the
 * number of machines: any executor runs any replica and gives the same bytes.
 */
export interface FineTuneConfig {
  dataset: DatasetRef;
  batchSize: number;
  /** K: optimizer steps per replica per repetition. 0 disables fine-tuning. */
  steps: number;
  /** M: local-SGD repetitions per round. Default 1. */
  repetitions?: number;
  /** Replicas per repetition. Default 1. */
  replicas?: number;
  learningRate: number;
  /** Default 0.9 (as @ippro/models' SgdTrainer). SGD only. */
  momentum?: number;
  /** SGD only. */
  nesterov?: boolean;
  /** Of the kernels; SGD: an L2 penalty in the objective; AdamW: decoupled, scaled by the rate. */
  weightDecay?: number;
  /**
   * AdamW instead of SGD with momentum; absent: SGD. Every fine-tuning call (one replica's K steps)
   * starts its optimizer afresh, zero moments at step 1, as SGD's momentum starts at zero: the
   * replicas' weights are averaged after each repetition, and moments of the weights before
   * averaging (or before surgery, between rounds) would not belong to the weights after it.
   */
  optimizer?: AdamWSettings;
  labelSmoothing?: number;
  /** Pad-crop-flip augmentation; default on for images (samples of rank 3). */
  augment?: boolean;
  /**
   * constant (default), or cosine: each round's rate decays from learningRate to 0 over its
   * K x M steps, so a round ends on a small rate and its averaged replicas settle.
   */
  learningRateSchedule?: FineTuneSchedule;
  /** Knowledge distillation from the run's input (unpruned) model; absent: the loss of the output kind alone; refused for a sigmoid output. */
  distillation?: DistillationConfig;
}

/**
 * loss = (1 - weight) * CE(labels, student) + weight * T^2 * KL(softmax(z_t / T) || softmax(z_s / T)),
 * T = temperature, z the logits (@ippro/models' distillationLoss).
 */
export interface DistillationConfig {
  /** In (0, 1]. */
  weight: number;
  /** T > 0. */
  temperature: number;
}

/**
 * Batch-norm recalibration: every BatchNormalization's moving mean and variance re-estimated on
 * `batches` batches of the data in training mode, with no weight update and no augmentation.
 * Batch i is batch i mod B of the seeded epoch floor(i / B) shuffle (B batches per epoch).
 */
export interface RecalibrationConfig {
  dataset: DatasetRef;
  batchSize: number;
  /** N >= 1. */
  batches: number;
}

export type FineTuneSchedule = 'constant' | 'cosine';
export const FINE_TUNE_SCHEDULES: readonly FineTuneSchedule[] = ['constant', 'cosine'];

export interface EvaluationConfig {
  dataset: DatasetRef;
  batchSize: number;
}

/** The planner's settings that stay fixed for a run (@ippro/planner's PlanRemovalInput). */
export interface PlanConfig {
  target: { metric: TargetMetricName; fraction: number };
  rounds: number;
  schedule?: 'linear' | 'geometric';
  ranking?: 'global' | 'uniform';
  maxLayerRatio?: number;
  minChannels?: number;
  roundTo?: number;
  ignoredLayers?: string[];
  /** The kinds of group the run may remove (@ippro/graph's GROUP_KINDS, checked by the planner); default all. */
  groupKinds?: string[];
}

export interface ShardConfig {
  /** Contiguous batch ranges per scoring pass. Default 1. */
  batchShards?: number;
  /** Disjoint group sets per scoring pass. Default 1. */
  layerShards?: number;
  /** Evaluation batch ranges. Default = batchShards. */
  evaluationShards?: number;
  /** Activities of one fan-out in flight at once (scoring shards, replicas, evaluation shards). Default 4. */
  maxParallel?: number;
}

/** Timeouts and retries of the compute activities. */
export interface ActivityConfig {
  /** Default 3600. */
  startToCloseSeconds?: number;
  /** Default 120: a shard reports after every batch, so silence this long means a lost activity. */
  heartbeatSeconds?: number;
  /** Default 5. */
  maximumAttempts?: number;
}

export interface PruneWorkflowInput {
  /** sha256 of the input model artifact (@ippro/model-artifact `IPMA`). */
  modelArtifactId: string;
  criterion: CriterionName;
  /** The model's output kind, for scoring, fine-tuning and evaluation alike; absent: 'auto'. */
  output?: ModelOutputKind;
  /** PROscore's step size; default @ippro/importance's DEFAULT_LAMBDA. */
  lambda?: number;
  /** How PROscore is read; absent: pooled, ascending, no weight decay. */
  proscore?: ProscoreConfig;
  /** Scoring data; required by proscore and taylor. */
  scoring?: ScoringConfig;
  /** Batch-norm recalibration after every surgery, before fine-tuning; absent: none. */
  recalibration?: RecalibrationConfig;
  /** Omitted (or steps 0): no fine-tuning. */
  fineTune?: FineTuneConfig;
  evaluation: EvaluationConfig;
  plan: PlanConfig;
  /** Stop when top-1 falls more than this fraction below the input model's; the result is then the last round within budget. */
  maxAccuracyDrop?: number;
  shards?: ShardConfig;
  seed: number;
  activity?: ActivityConfig;
  /** Set by the workflow itself when it continues as new; never by a caller. */
  carry?: PruneCarry;
}

/** A round's result (round 0 = the input model). Small: it is kept for every round. */
export interface RoundMetrics extends MergeEvaluationsOutput {
  round: number;
  /** The model after this round (fine-tuned). */
  modelArtifactId: string;
  /** Groups removed in this round. */
  removedGroups: number;
  /** Groups removed from the input model so far. */
  removedTotal: number;
  /** Mean training loss of the round's last local-SGD repetition (over all replicas). */
  fineTuneLoss?: number;
  /** Whether the planner met this round's goal. */
  reachedGoal?: boolean;
  /** JSON artifact of the scores this round planned from (the round's input model, scored). */
  scoresArtifactId?: string;
  /** The round's gradient statistics, per layer shard in merge order (gradient criteria only): the report reads them. */
  statsArtifactIds?: string[][];
  /** Wall time and work per phase (absent in records of older runs); the only field two runs of the same input differ in. */
  timing?: RoundTiming;
}

export type StopReason = 'target-reached' | 'rounds-done' | 'accuracy-budget' | 'nothing-to-remove' | 'cancelled';

/** What a run carries from round to round (through continue-as-new): ids and metrics only. */
export interface PruneCarry {
  /** The next round to run (1-based). */
  round: number;
  /** The model the next round starts from: the last finished round's. */
  modelArtifactId: string;
  /** JSON artifact: the group ids (of the input model) removed so far; absent before round 1. */
  removedArtifactId?: string;
  removedTotal: number;
  baseline: RoundMetrics;
  history: RoundMetrics[];
  paused: boolean;
  cancelRequested: boolean;
  /** The kernel fingerprint the run's compute calls are pinned to, from its first round on (absent in carries of older runs). */
  fingerprint?: string;
  /** The numeric path the run computes on from its baseline on (absent in carries of runs that did not record it from the start). */
  numericPath?: RunNumericPath;
}

export interface PruneWorkflowResult {
  /** The model's output kind the run scored, tuned and evaluated with (absent: 'auto', an input without one). */
  output?: ModelOutputKind;
  /** The result model: the last round within the accuracy budget. */
  modelArtifactId: string;
  /** The round whose model is the result (0 = the input model). */
  resultRound: number;
  stoppedBecause: StopReason;
  reason?: string;
  baseline: RoundMetrics;
  /** Every finished round, the one that broke the budget included. */
  history: RoundMetrics[];
  /** JSON artifact of the group ids removed to obtain the result (absent when none were). */
  removedArtifactId?: string;
  removedTotal: number;
  /**
   * The numeric path every compute call of the run ran on, from the baseline on; absent for runs
   * started before it was recorded (or whose pool did not name it in full).
   */
  numericPath?: RunNumericPath;
}

export type PrunePhase =
  | 'starting'
  | 'paused'
  | 'baseline'
  | 'scoring'
  | 'merging'
  | 'planning'
  | 'surgery'
  | 'recalibrating'
  | 'fine-tuning'
  | 'averaging'
  | 'evaluating'
  | 'done';

/** The answer of the `progress` query. */
export interface PruneProgress {
  /** The run's output kind (absent: 'auto'): what its accuracy counts. */
  output?: ModelOutputKind;
  phase: PrunePhase;
  /** The round in progress (the next one while paused; 0 while measuring the baseline). */
  round: number;
  rounds: number;
  /** Activities of the current fan-out: done and in total. */
  shardsDone: number;
  shardsTotal: number;
  /** The last finished round's model (the input model before round 1). */
  currentModelArtifactId: string;
  baseline?: RoundMetrics;
  history: RoundMetrics[];
  paused: boolean;
  cancelRequested: boolean;
  stoppedBecause?: StopReason;
  /**
   * The work phase in progress, counted from its finished activities only: the running ones report
   * through their heartbeats, which clients read from the run's pending activities (liveProgress).
   */
  work?: PhaseWork;
  /** The round in progress (round 0: the baseline) so far. */
  roundTiming?: RoundTiming;
  /** The phases each round goes through, in order: what the run's estimate adds up. */
  roundPhases: TimedPhase[];
}
