import type { BatchNormMode } from '@ippro/importance';
import type { CosineDecay, OutputSetting } from '@ippro/models';
import type { BatchRangeRef, ComputeGradStatsOutput, DatasetRef, EvaluationSumsRef, FineTuneReplicaOutput } from '@ippro/workflow-core';

/**
 * The three compute calls and their results, field for field ippro.v1.WorkerService's
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
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  labelSmoothing: number;
  /** Absent: the rate stays learningRate. */
  cosineDecay?: CosineDecay;
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
  /** Batches (scoring, evaluation) or steps (fine-tuning) done and in total. */
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
