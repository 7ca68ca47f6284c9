import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { InProcessExecutor, createPruneActivities } from '@ippro/activities';
import type { ComputeExecutor } from '@ippro/activities';
import { ArtifactStore } from '@ippro/artifact-store';
import type { ArtifactStorage } from '@ippro/artifact-store';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, temporalConnectionOptions } from '@ippro/temporal-connection';
import type { TemporalTarget } from '@ippro/temporal-connection';
import { serveRunProgressMetrics } from './run-progress-metrics';
import { createScheduleActivities } from './schedule-activities';
import { workflowsPath } from './workflow-bundle';

export { workflowsPath, writeWorkflowBundle } from './workflow-bundle';

export interface OrchestratorOptions extends TemporalTarget {
  /** Default 'ippro'. */
  taskQueue?: string;
  /** The artifact store the activities read and write (models, statistics, plans): a directory, or an open store. */
  artifacts: string | ArtifactStorage;
  /** Runs the compute calls. Default an InProcessExecutor over the store (this process computes). */
  executor?: ComputeExecutor;
  /** CIFAR-10 directory for datasets the orchestrator opens (shard plans, the in-process executor). */
  cifar10Dir?: string;
  /**
   * Pre-bundled workflow code (writeWorkflowBundle), for production: no webpack at start-up.
   * Without it the workflows are bundled from `workflowsPath()` when the worker starts (development).
   */
  workflowBundlePath?: string;
  /**
   * Directories scheduled runs may read models from and write kept results to. Default: any
   * absolute path (one machine, one user); a shared orchestrator should name them.
   */
  scheduleDirs?: readonly string[];
  /** Activities run at once by this process. Default 8 (compute activities mostly wait on workers). */
  maxConcurrentActivities?: number;
  /** Worker identity in the Temporal UI; default the SDK's (pid@host). */
  identity?: string;
  /** Extra Temporal worker options (interceptors, sinks, tuning). */
  workerOptions?: Partial<WorkerOptions>;
}

/**
 * Longest interval between two heartbeats an activity sends to Temporal. A compute activity
 * heartbeats its call's progress after every batch or step; the SDK's default throttle (80% of the
 * heartbeat timeout, at most 60 s) would leave clients reading progress a minute old. Heartbeats
 * are kept with the pending activity, not in the history, so a short interval costs no history.
 */
export const HEARTBEAT_THROTTLE = '2 seconds';

export interface OrchestratorHandle {
  readonly taskQueue: string;
  readonly namespace: string;
  readonly address: string;
  readonly worker: Worker;
  readonly store: ArtifactStorage;
  /** Settles when the worker stops (rejects when it fails). */
  readonly finished: Promise<void>;
  /** Stops polling, lets running activities finish (Temporal's graceful shutdown), closes the connection. */
  shutdown(): Promise<void>;
}

/**
 * Starts the orchestrator: a Temporal worker on `taskQueue` that runs the pruneModel workflow
 * and its activities. The worker runs until shutdown() (or a SIGINT/SIGTERM, which the SDK
 * turns into a graceful shutdown).
 */
export async function startOrchestrator(options: OrchestratorOptions): Promise<OrchestratorHandle> {
  const connectionOptions = temporalConnectionOptions(options);
  const address = connectionOptions.address;
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const store = typeof options.artifacts === 'string' ? await ArtifactStore.open({ root: options.artifacts }) : options.artifacts;
  const cifar = options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir };
  const executor = options.executor ?? new InProcessExecutor({ store, ...cifar });
  const activities = {
    ...createPruneActivities({ store, executor, ...cifar }),
    ...createScheduleActivities({ store, ...(options.scheduleDirs === undefined ? {} : { scheduleDirs: options.scheduleDirs }) }),
  };
  const connection = await NativeConnection.connect(connectionOptions);
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      ...(options.workflowBundlePath === undefined ? { workflowsPath: workflowsPath() } : { workflowBundle: { codePath: options.workflowBundlePath } }),
      activities,
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 8,
      maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...options.workerOptions,
    });
  } catch (error) {
    await connection.close();
    throw error;
  }
  const stopMetrics = serveRunProgressMetrics(options);
  const finished = worker.run().finally(async () => {
    await stopMetrics();
    await connection.close();
  });
  // Keep an unobserved failure from becoming an unhandled rejection; callers await `finished`.
  finished.catch(() => undefined);
  return {
    taskQueue,
    namespace,
    address,
    worker,
    store,
    finished,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await finished;
    },
  };
}
