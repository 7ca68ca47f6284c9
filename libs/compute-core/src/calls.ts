import type { BatchNormMode, RemovalOrder } from '@ippro/importance';
import type { AdamWSettings, CosineDecay, OutputSetting } from '@ippro/models';
import type {
  BatchNormStatisticsOutput,
  BatchRangeRef,
  ComputeGradStatsOutput,
  DatasetRef,
  EvaluationSumsRef,
  FineTuneReplicaOutput,
  MergeAndScoreOutput,
} from '@ippro/workflow-core';

/**
 * The compute calls and their results, field for field ippro.v1.WorkerService's
 * (proto/ippro/v1/worker.proto): the gRPC worker maps its messages to these, the in-process
 * executor passes them on as they are. Error messages name the fields as the protocol does
 * (`batch_size`, `group_ids[2]`), the one schema both share.
 */

/** Sums the gradient statistics of batches [start, end) for a set of groups; the serialized GradStats becomes an artifact. */
export interface GradStatsCall {
  /** Names the unit of work in logs; does not change the result. */
  jobId: string;
  modelArtifactId: string;
  dataset: DatasetRef;
  batches: BatchRangeRef;
  batchSize: number;
  /** The groups, in result order; empty = every prunable group. */
  groupIds: string[];
  batchNormMode: BatchNormMode;
  includeBias: boolean;
  /** The model's output kind (picks the loss); absent: 'auto', read from the model. */
  output?: OutputSetting;
}

export type GradStatsCallResult = ComputeGradStatsOutput;

export interface SgdCallSettings {
  learningRate: number;
  /** SGD only: 0 with AdamW. */
  momentum: number;
  /** SGD only: false with AdamW. */
  nesterov: boolean;
  weightDecay: number;
  labelSmoothing: number;
  /** Absent: the rate stays learningRate. */
  cosineDecay?: CosineDecay;
  /** AdamW instead of SGD with momentum, its moments starting at zero in every call (as SGD's momentum does); absent: SGD. */
  adamw?: Omit<AdamWSettings, 'kind'>;
}

/** Replica `index` of `count`: the `index`-th of `count` contiguous shares of the dataset's batches. */
export interface ReplicaRef {
  index: number;
  count: number;
}

/** The data a FineTune call trains on: a replica's share of the dataset, or explicit batches. */
export type FineTuneShard = { replica: ReplicaRef; batches?: undefined } | { batches: BatchRangeRef; replica?: undefined };

/**
 * K SGD steps from the start model on the shard's samples; the tuned model becomes an artifact.
 * Step s uses batch s mod B of epoch floor(s / B) of the shard (seeded shuffle, optional augmentation).
 */
export type FineTuneCall = FineTuneShard & {
  jobId: string;
  /** Knowledge distillation from a teacher model during the steps; absent: the loss of the output kind alone. */
  distillation?: DistillationCall;
  startModelArtifactId: string;
  dataset: DatasetRef;
  batchSize: number;
  steps: number;
  /** Global step of the first step, so successive rounds continue through the data. */
  firstStep: number;
  optimizer: SgdCallSettings;
  seed: number;
  augment: boolean;
  /** The model's output kind (picks the loss); absent: 'auto', read from the model. */
  output?: OutputSetting;
};

export type FineTuneCallResult = FineTuneReplicaOutput;

/** The teacher (a model artifact, held in the model pool like any model) and the loss's weight and temperature. */
export interface DistillationCall {
  teacherModelArtifactId: string;
  weight: number;
  temperature: number;
}

/**
 * Every BatchNormalization's batch mean and variance over recalibration batches [start, end):
 * batch i is batch i mod B of the seeded epoch floor(i / B) shuffle, without augmentation
 * (@ippro/pruning's recalibrationBatches). The per-batch statistics become an artifact.
 */
export interface BatchNormStatisticsCall {
  jobId: string;
  modelArtifactId: string;
  dataset: DatasetRef;
  batches: BatchRangeRef;
  batchSize: number;
  seed: number;
  /** The model's output kind, checked against the data as every call's; absent: 'auto', read from the model. */
  output?: OutputSetting;
}

export type BatchNormStatisticsCallResult = BatchNormStatisticsOutput;

/**
 * PROscore's trajectory reading: `steps` SGD steps over batches 0..steps-1 of the scoring data in
 * dataset order (0: every batch); the score table becomes a scores artifact.
 */
export interface ScoreTrajectoryCall {
  jobId: string;
  modelArtifactId: string;
  dataset: DatasetRef;
  batchSize: number;
  steps: number;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  batchNormMode: BatchNormMode;
  includeBias: boolean;
  order: RemovalOrder;
  /** The model's output kind (picks the loss); absent: 'auto', read from the model. */
  output?: OutputSetting;
}

export type ScoreTrajectoryCallResult = MergeAndScoreOutput;

/** Hits (top-1, or exact match for a sigmoid) and summed loss over batches [start, end), in order (exact sums, merged by addition). */
export interface EvaluateCall {
  jobId: string;
  modelArtifactId: string;
  dataset: DatasetRef;
  batches: BatchRangeRef;
  batchSize: number;
  /** The model's output kind (picks the loss and the accuracy); absent: 'auto', read from the model. */
  output?: OutputSetting;
}

export type EvaluateCallResult = EvaluationSumsRef;

export interface ComputeProgress {
  /** Batches (scoring, statistics, evaluation) or steps (fine-tuning, trajectory) done and in total. */
  done: number;
  total: number;
  samples: number;
  /** Mean loss so far; 0 while scoring (a batch's loss is known only at the end). */
  meanLoss: number;
}

/** How a call's host takes part in it: the gRPC worker (a stream, a deadline) or the in-process executor (a signal). */
export interface CallContext {
  /**
   * Lets the event loop run (so cancellation, deadlines and other calls are noticed), then
   * throws when the call is to stop. Called before every batch or step and before the result
   * is stored: a stopped call writes nothing.
   */
  checkpoint(): Promise<void>;
  /** After every batch or step. */
  progress(progress: ComputeProgress): void;
}
