import type { CosineDecay } from '@ippro/models';
import type { BatchRangeRef, DatasetRef } from '@ippro/workflow-core';

/**
 * The three compute calls, shaped like ippro.v1.WorkerService (proto/ippro/v1/worker.proto), so
 * that an executor over gRPC workers is a field-for-field mapping: dispatch each call to a healthy,
 * least-loaded worker, retry UNAVAILABLE / RESOURCE_EXHAUSTED on another one, and turn
 * INVALID_ARGUMENT / NOT_FOUND / DATA_LOSS into a ComputeInputError carrying the worker's message
 * (the activities make that a non-retryable ApplicationFailure).
 */
export interface ComputeExecutor {
  /** Sums the gradient statistics of one shard; the serialized GradStats is stored as an artifact. */
  computeGradStats(call: GradStatsCall, options?: ComputeCallOptions): Promise<GradStatsCallResult>;
  /** K SGD steps from the start model on one replica's data; the tuned model is stored as an artifact. */
  fineTune(call: FineTuneCall, options?: ComputeCallOptions): Promise<FineTuneCallResult>;
  /** Top-1 hits and summed loss over a batch range (exact sums). */
  evaluate(call: EvaluateCall, options?: ComputeCallOptions): Promise<EvaluateCallResult>;
}

export interface ComputeProgress {
  /** Batches (scoring, evaluation) or steps (fine-tuning) done and in total. */
  done: number;
  total: number;
  samples: number;
}

export interface ComputeCallOptions {
  /** Aborts the call (the activity was cancelled); the executor stops within one batch or step. */
  signal?: AbortSignal;
  /** Called after every batch or step: the activity turns it into a heartbeat. */
  onProgress?: (progress: ComputeProgress) => void;
  /**
   * A call that reports no progress for this long is abandoned and its worker suspected (a
   * stopped or wedged process keeps its connections open, so nothing else would end the call).
   * The activities set it to the heartbeat timeout: by then Temporal has retried the activity.
   */
  silenceMs?: number;
}

export interface GradStatsCall {
  jobId: string;
  modelArtifactId: string;
  dataset: DatasetRef;
  batches: BatchRangeRef;
  batchSize: number;
  /** The layer shard's groups, in result order; empty = every prunable group. */
  groupIds: string[];
  batchNormMode: 'inference' | 'batch';
  includeBias: boolean;
}

export interface GradStatsCallResult {
  statsArtifactId: string;
  count: number;
  lossSum: number;
  groupCount: number;
  statsBytes: number;
}

export interface SgdCallSettings {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  labelSmoothing: number;
  /** Absent: the rate stays learningRate. */
  cosineDecay?: CosineDecay;
}

export interface FineTuneCall {
  jobId: string;
  startModelArtifactId: string;
  dataset: DatasetRef;
  /** The dataset's batches split into `count` contiguous parts; this replica trains on part `index`. */
  replica: { index: number; count: number };
  batchSize: number;
  steps: number;
  firstStep: number;
  optimizer: SgdCallSettings;
  seed: number;
  augment: boolean;
}

export interface FineTuneCallResult {
  modelArtifactId: string;
  sampleCount: number;
  steps: number;
  lossSum: number;
}

export interface EvaluateCall {
  jobId: string;
  modelArtifactId: string;
  dataset: DatasetRef;
  batches: BatchRangeRef;
  batchSize: number;
}

export interface EvaluateCallResult {
  correct: number;
  lossSum: number;
  count: number;
}

/** Bad input to a compute call (INVALID_ARGUMENT / NOT_FOUND / DATA_LOSS from a worker): retrying cannot help. */
export class ComputeInputError extends Error {
  override readonly name = 'ComputeInputError';

  constructor(
    message: string,
    readonly type: 'InvalidArgument' | 'NotFound' | 'DataLoss' = 'InvalidArgument',
    options?: { cause?: unknown; artifactId?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.artifactId !== undefined) this.artifactId = options.artifactId;
  }

  /** The missing or corrupted artifact (NotFound, DataLoss), when the worker named one. */
  readonly artifactId?: string;
}
