import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { InProcessExecutor, createPruneActivities } from '@ippro/activities';
import type { ComputeExecutor } from '@ippro/activities';
import { ArtifactStore } from '@ippro/artifacts';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS, temporalTlsConfig } from './temporal-connection';
import type { TemporalTarget } from './temporal-connection';

/** The package whose exported functions are the workflows (a name, not an import: the worker bundles it). */
const WORKFLOWS_PACKAGE = '@ippro/workflows';

/** The module whose exported functions are the workflows (the compiled @ippro/workflows). */
export function workflowsPath(): string {
  return require.resolve(WORKFLOWS_PACKAGE);
}

/** Bundles the workflow code once (webpack), e.g. at build time; start workers with `workflowBundlePath`. */
export async function writeWorkflowBundle(outFile: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath() });
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  return outFile;
}

export interface OrchestratorOptions extends TemporalTarget {
  /** Default 'ippro'. */
  taskQueue?: string;
  /** The artifact store the activities read and write (models, statistics, plans): a directory, or an open store. */
  artifacts: string | ArtifactStore;
  /** Runs the compute calls. Default an InProcessExecutor over the store (this process computes). */
  executor?: ComputeExecutor;
  /** CIFAR-10 directory for datasets the orchestrator opens (shard plans, the in-process executor). */
  cifar10Dir?: string;
  /**
   * Pre-bundled workflow code (writeWorkflowBundle), for production: no webpack at start-up.
   * Without it the workflows are bundled from `workflowsPath()` when the worker starts (development).
   */
  workflowBundlePath?: string;
  /** Activities run at once by this process. Default 8 (compute activities mostly wait on workers). */
  maxConcurrentActivities?: number;
  /** Worker identity in the Temporal UI; default the SDK's (pid@host). */
  identity?: string;
  /** Extra Temporal worker options (interceptors, sinks, tuning). */
  workerOptions?: Partial<WorkerOptions>;
}

export interface OrchestratorHandle {
  readonly taskQueue: string;
  readonly namespace: string;
  readonly address: string;
  readonly worker: Worker;
  readonly store: ArtifactStore;
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
  const address = options.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const store = typeof options.artifacts === 'string' ? await ArtifactStore.open({ root: options.artifacts }) : options.artifacts;
  const cifar = options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir };
  const executor = options.executor ?? new InProcessExecutor({ store, ...cifar });
  const activities = createPruneActivities({ store, executor, ...cifar });
  const tls = temporalTlsConfig(options);
  const connection = await NativeConnection.connect({
    address,
    ...(tls === undefined ? {} : { tls }),
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
  });
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      ...(options.workflowBundlePath === undefined ? { workflowsPath: workflowsPath() } : { workflowBundle: { codePath: options.workflowBundlePath } }),
      activities,
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 8,
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...options.workerOptions,
    });
  } catch (error) {
    await connection.close();
    throw error;
  }
  const finished = worker.run().finally(() => connection.close());
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
