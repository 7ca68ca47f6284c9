import * as grpc from '@grpc/grpc-js';
import { artifactKeyOfStatus } from '@ippro/protocol';
import type { ClientTlsOptions } from '@ippro/protocol';
import {
  batchNormStatisticsRequestOf,
  batchNormStatisticsResultOf,
  evaluateRequestOf,
  evaluateResultOf,
  fineTuneRequestOf,
  fineTuneResultOf,
  gradStatsRequestOf,
  gradStatsResultOf,
  progressOf,
  trajectoryScoresRequestOf,
  trajectoryScoresResultOf,
} from '@ippro/compute';
import type { LongCallOptions, WorkerClient } from '@ippro/compute';
import { ComputeInputError } from '@ippro/compute-core';
import type { PoolFingerprintOutput } from '@ippro/workflow-core';
import type {
  BatchNormStatisticsCall,
  BatchNormStatisticsCallResult,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  GradStatsCall,
  GradStatsCallResult,
  ScoreTrajectoryCall,
  ScoreTrajectoryCallResult,
} from '@ippro/compute-core';
import type { ComputeCallOptions, ComputeExecutor } from './compute-executor';
import { WorkerPool, parseWorkerPool } from './worker-pool';
import type { PooledWorker, WorkerPoolOptions, WorkerPoolSpec } from './worker-pool';

export interface GrpcExecutorOptions {
  /** `host:port,host:port` or `dns:NAME:PORT`, or a parsed spec. */
  workers: string | WorkerPoolSpec;
  /** TLS to the workers (with certFile/keyFile: mutual TLS). */
  tls?: ClientTlsOptions;
  /** Attempts of one call over the pool (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED). Default 4. */
  maxAttempts?: number;
  /** Deadline of one attempt. Default 1 hour (the activity's start-to-close). */
  callTimeoutMs?: number;
  /**
   * How long a call waits while no worker of the pool is healthy (or, for a pinned run, no
   * healthy worker has the run's kernel fingerprint) before failing (retryable). Default 60 s.
   */
  waitForWorkerMs?: number;
  /** Health re-check interval. Default 5 s. */
  refreshMs?: number;
  /** A worker turned unhealthy or healthy again (WorkerPool's onHealthChange). */
  onHealthChange?: WorkerPoolOptions['onHealthChange'];
  log?: (line: string) => void;
}

/** gRPC codes after which the same call may succeed on another worker. */
const RETRY_ELSEWHERE = new Set<number>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED]);
/** gRPC codes that mean the input is bad: no worker can do better. */
const INPUT_ERRORS = new Map<number, ComputeInputError['type']>([
  [grpc.status.INVALID_ARGUMENT, 'InvalidArgument'],
  [grpc.status.NOT_FOUND, 'NotFound'],
  [grpc.status.DATA_LOSS, 'DataLoss'],
]);

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function detailsOf(error: unknown): string {
  const details = (error as { details?: unknown } | null)?.details;
  if (typeof details === 'string' && details !== '') return details;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A ComputeExecutor over a pool of gRPC compute workers (@ippro/compute). Each call goes to the
 * healthy worker with the lowest load (calls this executor has in flight there over the slots it
 * reports in GetCapabilities); when every slot is busy the call waits here (the workers keep no
 * queue). Progress streams through `onProgress` (the activity heartbeats it); aborting the
 * signal cancels the gRPC call (the worker stops within one batch). UNAVAILABLE,
 * DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED retry on another worker, at most `maxAttempts` times;
 * INVALID_ARGUMENT, NOT_FOUND and DATA_LOSS throw a ComputeInputError with the worker's message
 * (non-retryable; the artifact it names, if any, in `artifactId`); a call silent for `silenceMs`
 * is cancelled and its worker marked unhealthy; anything else is thrown as is (Temporal retries
 * the activity).
 *
 * Artifacts: the workers read inputs from and write results to the artifact service that serves
 * the orchestrator's store (workers started with `--artifacts ADDR`), so the ids they return name
 * artifacts the activities can read.
 */
export class GrpcExecutor implements ComputeExecutor {
  readonly pool: WorkerPool;
  private readonly log: (line: string) => void;

  constructor(private readonly options: GrpcExecutorOptions) {
    const spec = typeof options.workers === 'string' ? parseWorkerPool(options.workers) : options.workers;
    this.pool = new WorkerPool(spec, {
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
      ...(options.onHealthChange === undefined ? {} : { onHealthChange: options.onHealthChange }),
    });
    this.log = options.log ?? (() => undefined);
  }

  /**
   * The kernel fingerprint most of the healthy workers' slots report, and the numeric path its
   * workers name: what a new run pins. Waits up to `waitForWorkerMs` for a healthy worker, then
   * fails (retryable) naming the pool's state.
   */
  async poolFingerprint(options: Pick<ComputeCallOptions, 'signal'> = {}): Promise<PoolFingerprintOutput> {
    const started = Date.now();
    await this.pool.refresh(true);
    for (;;) {
      const fingerprint = this.pool.majorityFingerprint();
      if (fingerprint !== undefined) return this.pool.numericPathOf(fingerprint);
      if (Date.now() - started >= (this.options.waitForWorkerMs ?? 60_000)) {
        throw new Error(`no healthy worker in the pool reports a kernel fingerprint (${this.pool.describeFingerprints() || 'no workers found'})`);
      }
      await this.pool.waitForChange(500, options.signal);
      throwIfAborted(options.signal);
      await this.pool.refresh(true);
    }
  }

  /** Checks every worker now; resolves with the number of healthy ones. */
  async checkWorkers(): Promise<number> {
    await this.pool.refresh(true);
    return this.pool.healthyCount();
  }

  close(): void {
    this.pool.close();
  }

  async computeGradStats(call: GradStatsCall, options: ComputeCallOptions = {}): Promise<GradStatsCallResult> {
    const request = gradStatsRequestOf(call);
    return gradStatsResultOf(await this.run('ComputeGradStats', call.jobId, options, (client, callOptions) => client.computeGradStats(request, callOptions)));
  }

  async fineTune(call: FineTuneCall, options: ComputeCallOptions = {}): Promise<FineTuneCallResult> {
    const request = fineTuneRequestOf(call);
    return fineTuneResultOf(await this.run('FineTune', call.jobId, options, (client, callOptions) => client.fineTune(request, callOptions)));
  }

  async evaluate(call: EvaluateCall, options: ComputeCallOptions = {}): Promise<EvaluateCallResult> {
    const request = evaluateRequestOf(call);
    return evaluateResultOf(await this.run('Evaluate', call.jobId, options, (client, callOptions) => client.evaluate(request, callOptions)));
  }

  async computeBatchNormStatistics(call: BatchNormStatisticsCall, options: ComputeCallOptions = {}): Promise<BatchNormStatisticsCallResult> {
    const request = batchNormStatisticsRequestOf(call);
    return batchNormStatisticsResultOf(
      await this.run('ComputeBatchNormStatistics', call.jobId, options, (client, callOptions) => client.computeBatchNormStatistics(request, callOptions)),
    );
  }

  async computeTrajectoryScores(call: ScoreTrajectoryCall, options: ComputeCallOptions = {}): Promise<ScoreTrajectoryCallResult> {
    const request = trajectoryScoresRequestOf(call);
    return trajectoryScoresResultOf(await this.run('ComputeTrajectoryScores', call.jobId, options, (client, callOptions) => client.computeTrajectoryScores(request, callOptions)));
  }

  /**
   * Waits for a healthy worker with a free slot (preferring ones not in `avoid`; with
   * `fingerprint`, only workers reporting it) and takes the slot. While every such worker is busy
   * it waits without limit (keeping the activity alive through `keepAlive`); with none healthy at
   * all it fails after `waitForWorkerMs` (retryable), naming what the pool's workers compute with.
   */
  private async acquire(avoid: ReadonlySet<string>, signal: AbortSignal | undefined, what: string, keepAlive: () => void, fingerprint: string | undefined): Promise<PooledWorker> {
    let unhealthySince: number | undefined;
    const refreshing = this.pool.refresh();
    // A free worker that passed its last check is taken at once: the refresh waits for the
    // slowest health check, e.g. its full timeout for a worker whose link is down.
    const known = this.pool.pick(avoid, fingerprint);
    if (known !== undefined && !avoid.has(known.address)) {
      known.inFlight += 1;
      return known;
    }
    await refreshing;
    for (;;) {
      throwIfAborted(signal);
      const worker = this.pool.pick(avoid, fingerprint);
      if (worker !== undefined) {
        worker.inFlight += 1;
        return worker;
      }
      keepAlive();
      if (this.pool.healthyCount(fingerprint) === 0) {
        unhealthySince ??= Date.now();
        if (Date.now() - unhealthySince >= (this.options.waitForWorkerMs ?? 60_000)) {
          const pool = this.pool.describeFingerprints() || 'no workers found';
          if (fingerprint !== undefined && this.pool.healthyCount() > 0) {
            const message =
              `${what}: no healthy worker in the pool has the run's kernel fingerprint ${fingerprint}, so no worker can compute the run's ` +
              `bytes (pool: ${pool}); start workers with the backend, --threads and hardware of the run's, or run it again on this pool`;
            this.log(message);
            throw new Error(message);
          }
          throw new Error(`${what}: no healthy worker in the pool (${pool})`);
        }
        await this.pool.waitForChange(500, signal);
        await this.pool.refresh(true);
      } else {
        unhealthySince = undefined;
        await this.pool.waitForChange(1000, signal);
        await this.pool.refresh();
      }
    }
  }

  private release(worker: PooledWorker): void {
    worker.inFlight -= 1;
    this.pool.wake();
  }

  private async run<T>(name: string, jobId: string, options: ComputeCallOptions, invoke: (client: WorkerClient, callOptions: LongCallOptions) => Promise<T>): Promise<T> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    const tried = new Set<string>();
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      // Back off a little before a retry, so that a pool of one busy worker is not hammered.
      if (attempt > 1) await this.pool.waitForChange(Math.min(2000, 100 * 2 ** attempt), options.signal);
      const worker = await this.acquire(tried, options.signal, `${name} ${jobId}`, () => options.onProgress?.({ done: 0, total: 0, samples: 0, meanLoss: 0 }), options.fingerprint);
      const watch = new SilenceWatch(options.silenceMs, options.signal);
      try {
        return await invoke(worker.client, {
          timeoutMs: this.options.callTimeoutMs ?? 3_600_000,
          signal: watch.signal,
          onProgress: (progress) => {
            watch.heard();
            options.onProgress?.({ ...progressOf(progress), worker: worker.address });
          },
        });
      } catch (error) {
        throwIfAborted(options.signal);
        if (watch.silent) {
          // Stopped or wedged: its connection stays open, so only the silence tells. Temporal has
          // (or is about to have) timed the activity out by heartbeat and retries it elsewhere.
          this.pool.markUnhealthy(worker, new Error(`no progress for ${watch.silenceMs} ms`));
          this.log(`${name} ${jobId}: worker ${worker.address} sent no progress for ${watch.silenceMs} ms; call abandoned`);
          throw new Error(`${name} ${jobId}: worker ${worker.address} sent no progress for ${watch.silenceMs} ms; call abandoned`, { cause: error });
        }
        const code = codeOf(error);
        const inputType = code === undefined ? undefined : INPUT_ERRORS.get(code);
        if (inputType !== undefined) {
          const artifactId = artifactKeyOfStatus(error);
          throw new ComputeInputError(`worker ${worker.address}: ${detailsOf(error)}`, inputType, { cause: error, ...(artifactId === undefined ? {} : { artifactId }) });
        }
        if (code === undefined || !RETRY_ELSEWHERE.has(code)) throw error;
        lastError = error;
        tried.add(worker.address);
        if (code === grpc.status.UNAVAILABLE) this.pool.markUnhealthy(worker, error);
        this.log(`${name} ${jobId}: worker ${worker.address} failed (${grpc.status[code]}: ${detailsOf(error)}); attempt ${attempt} of ${maxAttempts}`);
      } finally {
        watch.stop();
        this.release(worker);
      }
    }
    const code = codeOf(lastError);
    throw new Error(`${name} ${jobId}: failed on ${maxAttempts} attempts; last: ${code === undefined ? '' : `${grpc.status[code]}: `}${detailsOf(lastError)}`, {
      cause: lastError,
    });
  }
}

/**
 * Aborts a call when `silenceMs` pass without progress (never without `silenceMs`); also aborts
 * it when `outer` aborts. `silent` tells which of the two happened.
 */
class SilenceWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly forward = (): void => this.controller.abort(this.outer?.reason);
  silent = false;

  constructor(
    readonly silenceMs: number | undefined,
    private readonly outer: AbortSignal | undefined,
  ) {
    if (outer?.aborted === true) this.forward();
    else outer?.addEventListener('abort', this.forward, { once: true });
    this.heard();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Progress arrived: the silence starts again. */
  heard(): void {
    if (this.silenceMs === undefined) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.silent = true;
      this.controller.abort(new Error(`no progress for ${this.silenceMs} ms`));
    }, this.silenceMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.forward);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    throw reason instanceof Error ? reason : new Error('the compute call was cancelled');
  }
}
