import type {
  BatchNormStatisticsCall,
  BatchNormStatisticsCallResult,
  ComputeProgress,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  GradStatsCall,
  GradStatsCallResult,
  ScoreTrajectoryCall,
  ScoreTrajectoryCallResult,
} from '@ippro/compute-core';
import type { PoolFingerprintOutput } from '@ippro/workflow-core';

/**
 * Where the activities' compute calls (@ippro/compute-core's typed calls) run: in this process
 * (InProcessExecutor) or on gRPC workers (GrpcExecutor). Either way bad input is a
 * ComputeInputError (the activities make it a non-retryable ApplicationFailure of its type).
 */
export interface ComputeExecutor {
  /** Sums the gradient statistics of one shard; the serialized GradStats is stored as an artifact. */
  computeGradStats(call: GradStatsCall, options?: ComputeCallOptions): Promise<GradStatsCallResult>;
  /** K SGD steps from the start model on one replica's data; the tuned model is stored as an artifact. */
  fineTune(call: FineTuneCall, options?: ComputeCallOptions): Promise<FineTuneCallResult>;
  /** Top-1 hits and summed loss over a batch range (exact sums). */
  evaluate(call: EvaluateCall, options?: ComputeCallOptions): Promise<EvaluateCallResult>;
  /** Every BatchNormalization's batch statistics over a range of recalibration batches; stored as an artifact. */
  computeBatchNormStatistics(call: BatchNormStatisticsCall, options?: ComputeCallOptions): Promise<BatchNormStatisticsCallResult>;
  /** PROscore's trajectory reading in one call; the scores are stored as an artifact. */
  computeTrajectoryScores(call: ScoreTrajectoryCall, options?: ComputeCallOptions): Promise<ScoreTrajectoryCallResult>;
  /**
   * The kernel fingerprint (@ippro/runtime) a new run pins its calls to: this process's, or the
   * one most of the worker pool's slots report; with the backend, threads and tfjs version it
   * stands for (the run's results record them).
   */
  poolFingerprint(options?: Pick<ComputeCallOptions, 'signal'>): Promise<PoolFingerprintOutput>;
}

/** A compute call's progress, and the worker reporting it (executors that dispatch to workers name it). */
export interface ComputeCallProgress extends ComputeProgress {
  worker?: string;
}

export interface ComputeCallOptions {
  /** Aborts the call (the activity was cancelled); the executor stops within one batch or step. */
  signal?: AbortSignal;
  /** Called after every batch or step: the activity turns it into a heartbeat. */
  onProgress?: (progress: ComputeCallProgress) => void;
  /**
   * A call that reports no progress for this long is abandoned and its worker suspected (a
   * stopped or wedged process keeps its connections open, so nothing else would end the call).
   * The activities set it to the heartbeat timeout: by then Temporal has retried the activity.
   */
  silenceMs?: number;
  /**
   * The run's kernel fingerprint: the call goes only to a worker reporting it, so that every call
   * of a run computes on one numeric path. Absent: any worker.
   */
  fingerprint?: string;
}
