import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's metrics. One registry per process (module state): the worker and the
 * orchestrator record into it from wherever the event happens, and the metrics server serves
 * it. Names are documented in docs/metrics.md.
 */
export const metricsRegistry = new Registry();

/** Seconds, from a 5 ms gRPC call to a 30 minute fine-tuning replica. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

let defaultsCollected = false;

/** Node's process metrics (CPU, memory, event loop lag, GC), once, when a process serves metrics. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

export const workerMetrics = {
  shardsDone: new Counter({
    name: 'ippro_worker_shards_done_total',
    help: 'Calls (scoring shards, fine-tuning replicas, evaluation shards) this worker finished',
    labelNames: ['operation'] as const,
    registers: [metricsRegistry],
  }),
  shardsFailed: new Counter({
    name: 'ippro_worker_shards_failed_total',
    help: 'Calls this worker ended without a result, by gRPC status',
    labelNames: ['operation', 'code'] as const,
    registers: [metricsRegistry],
  }),
  images: new Counter({
    name: 'ippro_worker_images_total',
    help: 'Samples (images) processed by finished calls',
    labelNames: ['operation'] as const,
    registers: [metricsRegistry],
  }),
  imagesPerSecond: new Gauge({
    name: 'ippro_worker_images_per_second',
    help: 'Samples per second of the last finished call of each operation',
    labelNames: ['operation'] as const,
    registers: [metricsRegistry],
  }),
  rpcDuration: new Histogram({
    name: 'ippro_worker_rpc_duration_seconds',
    help: 'Time from receiving a compute call to its last message, by method and gRPC status',
    labelNames: ['method', 'code'] as const,
    buckets: DURATION_BUCKETS,
    registers: [metricsRegistry],
  }),
  activeCalls: new Gauge({ name: 'ippro_worker_active_calls', help: 'Compute calls running now', registers: [metricsRegistry] }),
  slots: new Gauge({ name: 'ippro_worker_slots', help: 'Compute calls this worker runs at once', registers: [metricsRegistry] }),
  artifactBytes: new Counter({
    name: 'ippro_worker_artifact_bytes_total',
    help: 'Artifact bytes this worker read (get, cache hits included) and wrote (put)',
    labelNames: ['direction'] as const,
    registers: [metricsRegistry],
  }),
};

export const orchestratorMetrics = {
  shardsDone: new Counter({
    name: 'ippro_orchestrator_shards_done_total',
    help: 'Compute activities (scoring shards, fine-tuning replicas, evaluation shards) finished',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  shardsFailed: new Counter({
    name: 'ippro_orchestrator_shards_failed_total',
    help: 'Compute activity attempts that failed (Temporal retries them unless the input is bad)',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  images: new Counter({
    name: 'ippro_orchestrator_images_total',
    help: 'Samples (images) processed by finished compute activities',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  imagesPerSecond: new Gauge({
    name: 'ippro_orchestrator_images_per_second',
    help: 'Samples per second of the last finished compute activity of each kind, dispatch included',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  activityDuration: new Histogram({
    name: 'ippro_orchestrator_activity_duration_seconds',
    help: 'Activity attempts by type and outcome; for compute activities the worker call, retries on other workers included',
    labelNames: ['activity', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [metricsRegistry],
  }),
  activitiesInFlight: new Gauge({
    name: 'ippro_orchestrator_activities_in_flight',
    help: 'Activities running in this orchestrator now',
    labelNames: ['activity'] as const,
    registers: [metricsRegistry],
  }),
  round: new Gauge({
    name: 'ippro_orchestrator_round',
    help: 'The round a run is in (0: measuring the baseline), as of its latest activity',
    labelNames: ['run_id'] as const,
    registers: [metricsRegistry],
  }),
  phase: new Gauge({
    name: 'ippro_orchestrator_phase',
    help: 'The phase a run is in, as of its latest activity: 1 for the current phase, 0 for the others',
    labelNames: ['run_id', 'phase'] as const,
    registers: [metricsRegistry],
  }),
  artifactBytes: new Counter({
    name: 'ippro_orchestrator_artifact_bytes_total',
    help: 'Artifact bytes the orchestrator read (get) and wrote (put) in its store',
    labelNames: ['direction'] as const,
    registers: [metricsRegistry],
  }),
};

export interface WorkerCallRecord {
  /** ComputeGradStats, FineTune, Evaluate */
  method: string;
  /** gRPC status name: OK, CANCELLED, UNAVAILABLE, ... */
  code: string;
  seconds: number;
  /** Samples the call processed (from its progress). */
  samples: number;
}

/** A compute call on this worker ended. */
export function recordWorkerCall(call: WorkerCallRecord): void {
  workerMetrics.rpcDuration.observe({ method: call.method, code: call.code }, call.seconds);
  if (call.code === 'OK') {
    workerMetrics.shardsDone.inc({ operation: call.method });
    workerMetrics.images.inc({ operation: call.method }, call.samples);
    if (call.seconds > 0) workerMetrics.imagesPerSecond.set({ operation: call.method }, call.samples / call.seconds);
  } else {
    workerMetrics.shardsFailed.inc({ operation: call.method, code: call.code });
  }
}
