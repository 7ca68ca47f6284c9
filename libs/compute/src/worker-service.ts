import * as grpc from '@grpc/grpc-js';
import type { ArtifactStorage } from '@ippro/artifact-store';
import type { protocol } from '@ippro/protocol';
import {
  DATASET_REF_SCHEMES,
  computeBatchNormStatistics,
  computeGradStats,
  computeTrajectoryScores,
  createComputeDeps,
  evaluate,
  fineTune,
} from '@ippro/compute-core';
import type { CallContext, ComputeDeps } from '@ippro/compute-core';
import { recordWorkerCall, workerMetrics } from '@ippro/telemetry';
import { batchNormStatisticsCallOf, evaluateCallOf, fineTuneCallOf, gradStatsCallOf, gradStatsResultMessage, trajectoryScoresCallOf } from './call-messages';
import { WorkerError, statusOfError } from './worker-error';

export interface WorkerServiceOptions {
  workerId: string;
  version: string;
  /** The backend in use: "tensorflow-gpu", "tensorflow", "wasm" or "cpu". */
  backend: string;
  /** Long calls run at once; more are refused with RESOURCE_EXHAUSTED. */
  slots: number;
  maxBatchSize: number;
  maxMessageBytes: number;
  /** Where inputs are read and results written (metered; usually a cache in front of a shared store). */
  artifacts: ArtifactStorage;
  /** Size bound of the worker's local artifact cache (0 without one), reported in GetCapabilities. */
  artifactCacheBytes: number;
  /** Directory of the CIFAR-10 .bin files (else IPPRO_DATA_DIR / the default cache). */
  cifar10Dir?: string;
  /** Intra-op threads of the backend (1 for wasm and cpu). */
  threads?: number;
  /** The kernel fingerprint of the worker's numeric path (@ippro/runtime's kernelFingerprint). */
  kernelFingerprint?: string;
  /** The tfjs-core version the worker computes with (part of its numeric path). */
  tfjsVersion?: string;
  /** Built models kept between calls (see ModelPool); default 4, 0 builds one per call. */
  idleModels?: number;
  /** One line per finished or failed call, with the call's method and job id as fields. */
  log?: (line: string, fields?: Record<string, unknown>) => void;
}

type Kind = 'ComputeGradStats' | 'FineTune' | 'Evaluate' | 'ComputeBatchNormStatistics' | 'ComputeTrajectoryScores';

interface ActiveCall {
  kind: Kind;
  jobId: string;
  /** Set when the worker aborts its calls (SIGTERM with --abort-on-term). */
  abort(reason: string): void;
  done: Promise<void>;
}

/** Thrown at a checkpoint of a call the client cancelled or whose deadline passed. */
class CallEnded extends Error {}

interface StreamingCall<Request> extends grpc.ServerWritableStream<Request, unknown> {
  request: Request;
}

/**
 * The WorkerService implementation. Admission: at most `slots` long calls run at once; one more
 * is refused at once with RESOURCE_EXHAUSTED (no queue: the caller retries on another worker,
 * which keeps every queue in one place, the orchestrator). While draining (shutdown) new calls
 * are refused with UNAVAILABLE.
 */
export class WorkerService {
  private readonly active = new Set<ActiveCall>();
  private readonly deps: ComputeDeps;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: WorkerServiceOptions) {
    this.deps = createComputeDeps(options.artifacts, {
      ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }),
      idleModels: options.idleModels ?? 4,
      maxBatchSize: options.maxBatchSize,
    });
    workerMetrics.slots.set(options.slots);
  }

  get activeCalls(): number {
    return this.active.size;
  }

  capabilities(): protocol.Capabilities {
    const { options } = this;
    return {
      workerId: options.workerId,
      version: options.version,
      backend: options.backend,
      slots: options.slots,
      activeCalls: this.active.size,
      maxBatchSize: options.maxBatchSize,
      maxMessageBytes: options.maxMessageBytes,
      datasetSchemes: [...DATASET_REF_SCHEMES, 'artifact'],
      artifactCacheBytes: options.artifactCacheBytes,
      threads: options.threads ?? 1,
      kernelFingerprint: options.kernelFingerprint ?? '',
      tfjsVersion: options.tfjsVersion ?? '',
    };
  }

  /** Refuses every new call from now on (UNAVAILABLE); running calls continue. */
  drain(): void {
    this.draining = true;
  }

  /** Ends every running call at its next checkpoint with UNAVAILABLE (retry elsewhere). */
  abortAll(reason: string): void {
    for (const call of this.active) call.abort(reason);
  }

  /** Disposes the idle models (call after the last call ended). */
  releaseModels(): void {
    this.deps.models.clear();
  }

  /** Resolves when no call is running. */
  idle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  handlers(): protocol.WorkerServiceHandlers {
    return {
      GetCapabilities: (_call, callback) => callback(null, this.capabilities()),
      ComputeGradStats: (call) =>
        this.serve('ComputeGradStats', call, async (context) => {
          const typed = gradStatsCallOf(call.request);
          return gradStatsResultMessage(typed, await computeGradStats(typed, this.deps, context));
        }),
      FineTune: (call) => this.serve('FineTune', call, async (context) => fineTune(fineTuneCallOf(call.request), this.deps, context)),
      Evaluate: (call) => this.serve('Evaluate', call, async (context) => evaluate(evaluateCallOf(call.request), this.deps, context)),
      ComputeBatchNormStatistics: (call) =>
        this.serve('ComputeBatchNormStatistics', call, async (context) => computeBatchNormStatistics(batchNormStatisticsCallOf(call.request), this.deps, context)),
      ComputeTrajectoryScores: (call) =>
        this.serve('ComputeTrajectoryScores', call, async (context) => computeTrajectoryScores(trajectoryScoresCallOf(call.request), this.deps, context)),
    };
  }

  private admit(kind: Kind): void {
    if (this.draining) {
      throw new WorkerError(grpc.status.UNAVAILABLE, `worker ${this.options.workerId} is shutting down; send ${kind} to another worker`);
    }
    if (this.active.size >= this.options.slots) {
      throw new WorkerError(
        grpc.status.RESOURCE_EXHAUSTED,
        `worker ${this.options.workerId}: all ${this.options.slots} slot(s) are busy; retry ${kind} on another worker`,
      );
    }
  }

  private serve<Request extends { jobId: string }>(
    kind: Kind,
    call: StreamingCall<Request>,
    operation: (context: CallContext) => Promise<object>,
  ): void {
    const started = Date.now();
    const jobId = call.request.jobId;
    try {
      this.admit(kind);
    } catch (error) {
      call.emit('error', statusOfError(error));
      return;
    }
    let aborted: string | undefined;
    let finish = (): void => undefined;
    const entry: ActiveCall = {
      kind,
      jobId,
      abort: (reason) => {
        aborted = reason;
      },
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
    };
    this.active.add(entry);
    workerMetrics.activeCalls.inc();
    let samples = 0;
    const record = (code: grpc.status): void =>
      recordWorkerCall({ method: kind, code: grpc.status[code] ?? String(code), seconds: (Date.now() - started) / 1000, samples });
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : Infinity;
    const context: CallContext = {
      checkpoint: async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (call.cancelled) throw new CallEnded('cancelled by the client');
        if (Date.now() > deadlineMs) throw new CallEnded('deadline exceeded');
        if (aborted !== undefined) throw new WorkerError(grpc.status.UNAVAILABLE, `worker ${this.options.workerId} aborted ${kind}: ${aborted}; retry on another worker`);
      },
      progress: (progress) => {
        samples = Number(progress.samples ?? samples);
        if (!call.cancelled) call.write({ progress });
      },
    };
    const label = `${kind}${jobId === '' ? '' : ` ${jobId}`}`;
    const fields = { method: kind, jobId };
    // With the 'done' or 'failed' line below, this shows which calls a lost worker was running.
    this.options.log?.(`${label}: started`, fields);
    operation(context)
      .then((result) => {
        if (call.cancelled) {
          // The cancel arrived after the last checkpoint (say, while the result was being stored):
          // the work is done but nobody waits for it. Logged, so every started call has an end.
          record(grpc.status.CANCELLED);
          this.options.log?.(`${label}: stopped after ${Date.now() - started} ms (cancelled by the client; the result was discarded)`, fields);
          return;
        }
        call.write({ result });
        call.end();
        record(grpc.status.OK);
        this.options.log?.(`${label}: done in ${Date.now() - started} ms`, { ...fields, durationMs: Date.now() - started, samples });
      })
      .catch((error: unknown) => {
        if (error instanceof CallEnded) {
          const code = error.message === 'deadline exceeded' ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED;
          record(code);
          this.options.log?.(`${label}: stopped after ${Date.now() - started} ms (${error.message})`, fields);
          if (!call.cancelled) call.emit('error', { code, details: `${label}: ${error.message}` });
          return;
        }
        const status = statusOfError(error);
        record(status.code ?? grpc.status.UNKNOWN);
        this.options.log?.(`${label}: failed after ${Date.now() - started} ms: ${grpc.status[status.code ?? grpc.status.UNKNOWN]}: ${status.details}`, fields);
        if (!call.cancelled) call.emit('error', status);
      })
      .finally(() => {
        this.active.delete(entry);
        workerMetrics.activeCalls.dec();
        finish();
        if (this.active.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
  }
}
