import type { ArtifactStorage } from '@ippro/artifact-store';
import { computeBatchNormStatistics, computeGradStats, computeTrajectoryScores, createComputeDeps, evaluate, fineTune } from '@ippro/compute-core';
import type {
  BatchNormStatisticsCall,
  BatchNormStatisticsCallResult,
  CallContext,
  ComputeDeps,
  DatasetResolver,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  GradStatsCall,
  GradStatsCallResult,
  ScoreTrajectoryCall,
  ScoreTrajectoryCallResult,
} from '@ippro/compute-core';
import { activeRuntime, kernelFingerprint } from '@ippro/runtime';
import type { KernelFingerprint } from '@ippro/runtime';
import type { PoolFingerprintOutput } from '@ippro/workflow-core';
import * as tf from '@tensorflow/tfjs-core';
import type { ComputeCallOptions, ComputeExecutor } from './compute-executor';

export interface InProcessExecutorOptions {
  store: ArtifactStorage;
  /** Datasets; default a resolver over `store`. */
  datasets?: DatasetResolver;
  cifar10Dir?: string;
}

/** This process's kernel fingerprint: the backend it computes with now, its threads and tfjs version. */
function ownNumericPath(): KernelFingerprint {
  const runtime = activeRuntime();
  return kernelFingerprint({ backend: runtime?.backend ?? tf.getBackend(), threads: runtime?.threads ?? 1 });
}

function ownFingerprint(): string {
  return ownNumericPath().fingerprint;
}

/**
 * A call's context here: it yields to the event loop before each batch or step and stops when its
 * signal is aborted. A call pinned to another kernel fingerprint than this process's (a run
 * started before this process came back on another backend) fails, retryably, before computing.
 */
function contextOf(options: ComputeCallOptions): CallContext {
  if (options.fingerprint !== undefined) {
    const own = ownFingerprint();
    if (own !== options.fingerprint) {
      throw new Error(`the run's kernel fingerprint is ${options.fingerprint}, but this process computes with ${own} (${activeRuntime()?.backend ?? tf.getBackend()}): it cannot compute the run's bytes`);
    }
  }
  return {
    checkpoint: async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.signal?.aborted === true) {
        const reason: unknown = options.signal.reason;
        throw reason instanceof Error ? reason : new Error('the compute call was cancelled');
      }
    },
    progress: (progress) => options.onProgress?.(progress),
  };
}

/**
 * The compute calls in this process with TensorFlow.js (whatever backend is active): the compute
 * core's operations, exactly as the gRPC worker (@ippro/compute) runs them, over the activities'
 * store. Each call builds its own model from the artifact bytes and disposes it, so calls may
 * run concurrently.
 */
export class InProcessExecutor implements ComputeExecutor {
  private readonly deps: ComputeDeps;

  constructor(options: InProcessExecutorOptions) {
    this.deps = createComputeDeps(options.store, {
      ...(options.datasets === undefined ? {} : { datasets: options.datasets }),
      ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }),
    });
  }

  computeGradStats(call: GradStatsCall, options: ComputeCallOptions = {}): Promise<GradStatsCallResult> {
    return computeGradStats(call, this.deps, contextOf(options));
  }

  fineTune(call: FineTuneCall, options: ComputeCallOptions = {}): Promise<FineTuneCallResult> {
    return fineTune(call, this.deps, contextOf(options));
  }

  evaluate(call: EvaluateCall, options: ComputeCallOptions = {}): Promise<EvaluateCallResult> {
    return evaluate(call, this.deps, contextOf(options));
  }

  computeBatchNormStatistics(call: BatchNormStatisticsCall, options: ComputeCallOptions = {}): Promise<BatchNormStatisticsCallResult> {
    return computeBatchNormStatistics(call, this.deps, contextOf(options));
  }

  computeTrajectoryScores(call: ScoreTrajectoryCall, options: ComputeCallOptions = {}): Promise<ScoreTrajectoryCallResult> {
    return computeTrajectoryScores(call, this.deps, contextOf(options));
  }

  poolFingerprint(): Promise<PoolFingerprintOutput> {
    const { fingerprint, backend, threads, tfjs } = ownNumericPath();
    return Promise.resolve({ fingerprint, backend, threads, tfjs });
  }
}
