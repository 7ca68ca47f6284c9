import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GrpcExecutor, parseWorkerPool } from '@ippro/activities';
import { ArtifactStore, startArtifactServer } from '@ippro/artifacts';
import type { ArtifactServer, ClientTlsOptions, ServerTlsOptions } from '@ippro/artifacts';
import { StoreSettingsError, openArtifactStorage, parseStoreSettings, storeFlagsUsage } from '@ippro/artifacts';
import type { StoreSettings } from '@ippro/artifacts';
import { MeteredStorage, activityTelemetry, createLogger, installTemporalLogger, lineLogger, orchestratorMetrics, startMetricsServer } from '@ippro/telemetry';
import { initRuntime, parseBackendRequest } from '@ippro/runtime';
import type { BackendRequest } from '@ippro/runtime';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS, TEMPORAL_SETTINGS, TemporalTargetError, temporalSettingsFrom, temporalSettingsUsage } from '@ippro/temporal-connection';
import type { TemporalSettingValues } from '@ippro/temporal-connection';
import { startOrchestrator } from './orchestrator';
import type { OrchestratorOptions } from './orchestrator';
import { checkWorkflowBundle, writeWorkflowBundle } from './workflow-bundle';

/** The compute worker's default port (`ippro worker`), for `--workers dns:NAME` without one. */
export const DEFAULT_WORKER_PORT = 7071;
/** Where the orchestrator serves its artifact store to the workers by default when it has workers. */
export const DEFAULT_ARTIFACTS_LISTEN = '0.0.0.0:7070';

export const ORCHESTRATOR_USAGE = `Usage: ippro-orchestrator [flags]

Runs the Temporal worker of the pruneModel and scheduledPrune workflows and their activities until
SIGINT/SIGTERM. Flags win over the environment variables in brackets.

Temporal (default ${DEFAULT_TEMPORAL_ADDRESS}, namespace ${DEFAULT_NAMESPACE}, task queue ${DEFAULT_TASK_QUEUE}):
${temporalSettingsUsage(28)}
  --address HOST:PORT        the same as --temporal

Artifacts and compute:
  --artifacts DIR            the artifact store ($IPPRO_ARTIFACTS_DIR, required unless --store)
${storeFlagsUsage(26)}  --workers POOL             compute workers: host:port[,host:port...] or dns:NAME[:PORT] (port ${DEFAULT_WORKER_PORT}), re-resolved
                             as the name changes ($IPPRO_WORKERS). Default: compute in this process
  --serve-artifacts HOST:PORT  serve the store to the workers ($IPPRO_SERVE_ARTIFACTS; default ${DEFAULT_ARTIFACTS_LISTEN}
                             with --workers); start the workers with --artifacts pointing here
  --artifacts-tls-cert FILE  serve the store over TLS with this certificate chain (PEM), with --artifacts-tls-key
  --artifacts-tls-key FILE
  --artifacts-tls-ca FILE    mutual TLS: workers must present certificates signed by this CA
  --workers-ca FILE          TLS to the workers: CA of their certificates (PEM)
  --workers-cert FILE        mutual TLS to the workers: this process's certificate, with --workers-key
  --workers-key FILE
  --workers-server-name NAME TLS: the name the workers' certificates carry
  --cifar10-dir DIR          CIFAR-10 files, only for in-process compute (shard plans need no dataset files)
  --backend NAME             tfjs backend for merges, surgery and in-process compute: auto, tensorflow-gpu,
                             tensorflow, wasm, cpu (default auto)

Scheduled runs:
  --schedule-dirs DIR[,DIR]  directories scheduled runs may read models from and write results to
                             ($IPPRO_SCHEDULE_DIRS; default none: scheduled runs are refused)

Workflow code and limits:
  --workflow-bundle FILE     pre-built workflow bundle; default: the bundle built next to this program
                             (npm run bundle:workflows) when it matches the installed workflow code,
                             else the code is bundled at start
  --write-bundle FILE        write the workflow bundle (and FILE.json, naming its code) to FILE and exit
  --max-activities N         activities at once (default 8)

Logs and metrics:
  --metrics-port N           serve Prometheus metrics at http://0.0.0.0:N/metrics and /healthz (0: a free port)
                             ($IPPRO_METRICS_PORT); logs are JSON lines on stderr ($IPPRO_LOG_LEVEL, default info)
`;

export class OrchestratorUsageError extends Error {
  override readonly name = 'OrchestratorUsageError';
}

export interface OrchestratorProcessOptions {
  orchestrator: OrchestratorOptions;
  backend: BackendRequest;
  writeBundle?: string;
  /** The worker pool spec (`--workers`); without it compute runs in this process. */
  workers?: string;
  workersTls?: ClientTlsOptions;
  /** host:port where this process serves its artifact store to the workers. */
  serveArtifacts?: string;
  artifactsTls?: ServerTlsOptions;
  /** Where the workflow code comes from, for the start-up log. */
  workflowCode: string;
  /** `--store`: the store shared with the workers (an S3 bucket), instead of `--artifacts DIR`. */
  store?: StoreSettings;
  /** `--metrics-port`: the Prometheus endpoint. */
  metricsPort?: number;
}

/** Paths of the flags and the defaults the process entry knows (its own directory). */
export interface OrchestratorDefaults {
  /** The bundle `npm run bundle:workflows` writes; used when present and current. */
  workflowBundle?: string;
}

const VALUE_FLAGS = [
  'address', 'artifacts', 'workers', 'serve-artifacts', 'artifacts-tls-cert', 'artifacts-tls-key', 'artifacts-tls-ca',
  'workers-ca', 'workers-cert', 'workers-key', 'workers-server-name', 'cifar10-dir', 'backend', 'schedule-dirs',
  'workflow-bundle', 'write-bundle', 'max-activities',
  'store', 's3-endpoint', 's3-region', 's3-access-key-id', 's3-secret-access-key', 'metrics-port',
] as const;

type FlagValues = Partial<Record<(typeof VALUE_FLAGS)[number], string>> & Record<string, string | boolean | undefined>;

function readFlags(argv: readonly string[]): FlagValues {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const spec of TEMPORAL_SETTINGS) options[spec.flag] = { type: spec.value === undefined ? 'boolean' : 'string' };
  for (const flag of VALUE_FLAGS) options[flag] = { type: 'string' };
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values as FlagValues;
  } catch (error) {
    throw new OrchestratorUsageError((error as Error).message);
  }
}

function temporalValues(values: FlagValues): TemporalSettingValues {
  const picked: Record<string, string | boolean> = {};
  for (const spec of TEMPORAL_SETTINGS) {
    const value = values[spec.flag];
    if (value !== undefined) picked[spec.key] = value;
  }
  if (picked['temporal'] === undefined && values.address !== undefined) picked['temporal'] = values.address;
  return picked as TemporalSettingValues;
}

/** `dns:NAME` without a port gets the workers' default one; the pool is checked. */
function workerPool(text: string, from: string): string {
  const spec = /^dns:[^:]+$/.test(text.trim()) ? `${text.trim()}:${DEFAULT_WORKER_PORT}` : text;
  try {
    parseWorkerPool(spec);
  } catch (error) {
    throw new OrchestratorUsageError(`${from}: ${(error as Error).message}`);
  }
  return spec;
}

function listenAddress(text: string, from: string): string {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text);
  if (match === null || Number(match[2]) > 65535) throw new OrchestratorUsageError(`${from} must be HOST:PORT (port 0: a free one), got '${text}'`);
  return text;
}

function pair(values: FlagValues, first: (typeof VALUE_FLAGS)[number], second: (typeof VALUE_FLAGS)[number]): void {
  if ((values[first] === undefined) !== (values[second] === undefined)) throw new OrchestratorUsageError(`--${first} and --${second} go together`);
}

function workersTls(values: FlagValues): ClientTlsOptions | undefined {
  pair(values, 'workers-cert', 'workers-key');
  const tls: ClientTlsOptions = {
    ...(values['workers-ca'] === undefined ? {} : { caFile: values['workers-ca'] }),
    ...(values['workers-cert'] === undefined ? {} : { certFile: values['workers-cert'] }),
    ...(values['workers-key'] === undefined ? {} : { keyFile: values['workers-key'] }),
    ...(values['workers-server-name'] === undefined ? {} : { serverName: values['workers-server-name'] }),
  };
  return Object.keys(tls).length === 0 ? undefined : tls;
}

function artifactsTls(values: FlagValues): ServerTlsOptions | undefined {
  pair(values, 'artifacts-tls-cert', 'artifacts-tls-key');
  if (values['artifacts-tls-cert'] === undefined || values['artifacts-tls-key'] === undefined) {
    if (values['artifacts-tls-ca'] !== undefined) throw new OrchestratorUsageError('--artifacts-tls-ca needs --artifacts-tls-cert and --artifacts-tls-key');
    return undefined;
  }
  return {
    certFile: values['artifacts-tls-cert'],
    keyFile: values['artifacts-tls-key'],
    ...(values['artifacts-tls-ca'] === undefined ? {} : { clientCaFile: values['artifacts-tls-ca'] }),
  };
}

function positiveInteger(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new OrchestratorUsageError(`${flag} must be a positive integer, got '${text}'`);
  return value;
}

/** The explicit bundle must match the installed workflow code; the default one is used only when it does. */
function workflowCode(values: FlagValues, defaults: OrchestratorDefaults): { bundle?: string; description: string } {
  const explicit = values['workflow-bundle'];
  if (explicit !== undefined) {
    const check = checkWorkflowBundle(explicit);
    if (!check.usable) throw new OrchestratorUsageError(`--workflow-bundle: ${check.reason}`);
    return { bundle: explicit, description: `pre-built bundle ${check.note}` };
  }
  if (defaults.workflowBundle === undefined) return { description: 'bundled at start' };
  const check = checkWorkflowBundle(defaults.workflowBundle);
  if (check.usable) return { bundle: defaults.workflowBundle, description: `pre-built bundle ${check.note}` };
  return { description: `bundled at start (${check.reason})` };
}

/** Flags (and their environment variables) → options. Throws OrchestratorUsageError naming the bad flag. */
export function parseOrchestratorArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, defaults: OrchestratorDefaults = {}): OrchestratorProcessOptions {
  const values = readFlags(argv);
  let backend: BackendRequest;
  try {
    backend = parseBackendRequest(values.backend ?? 'auto');
  } catch (error) {
    throw new OrchestratorUsageError(`--backend: ${(error as Error).message}`);
  }
  const writeBundle = values['write-bundle'];
  if (writeBundle !== undefined) return { orchestrator: { artifacts: '' }, backend, writeBundle, workflowCode: 'written' };
  let settings;
  try {
    settings = temporalSettingsFrom(temporalValues(values), env);
  } catch (error) {
    throw error instanceof TemporalTargetError ? new OrchestratorUsageError(error.message) : error;
  }
  const store = storeSettings(values, env);
  const metricsPort = portNumber(values['metrics-port'] ?? env['IPPRO_METRICS_PORT'], '--metrics-port');
  const artifacts = values.artifacts ?? env['IPPRO_ARTIFACTS_DIR'] ?? (store === undefined ? undefined : '');
  if (artifacts === undefined || (artifacts === '' && store === undefined)) throw new OrchestratorUsageError('--artifacts DIR (or $IPPRO_ARTIFACTS_DIR) or --store URL is required');
  const workersText = values.workers ?? env['IPPRO_WORKERS'];
  const workers = workersText === undefined || workersText === '' ? undefined : workerPool(workersText, values.workers === undefined ? '$IPPRO_WORKERS' : '--workers');
  const serveText = values['serve-artifacts'] ?? env['IPPRO_SERVE_ARTIFACTS'] ?? (workers === undefined ? undefined : DEFAULT_ARTIFACTS_LISTEN);
  const serveArtifacts = serveText === undefined || serveText === '' ? undefined : listenAddress(serveText, '--serve-artifacts');
  const scheduleText = values['schedule-dirs'] ?? env['IPPRO_SCHEDULE_DIRS'] ?? '';
  const scheduleDirs = scheduleText.split(',').map((dir) => dir.trim()).filter((dir) => dir !== '').map((dir) => resolve(dir));
  const maxConcurrentActivities = positiveInteger(values['max-activities'], '--max-activities');
  const code = workflowCode(values, defaults);
  const toWorkers = workersTls(values);
  const servedTls = artifactsTls(values);
  const orchestrator: OrchestratorOptions = {
    ...settings.target,
    ...(settings.taskQueue === undefined ? {} : { taskQueue: settings.taskQueue }),
    artifacts,
    scheduleDirs,
    ...(values['cifar10-dir'] === undefined ? {} : { cifar10Dir: values['cifar10-dir'] }),
    ...(code.bundle === undefined ? {} : { workflowBundlePath: code.bundle }),
    ...(maxConcurrentActivities === undefined ? {} : { maxConcurrentActivities }),
  };
  return {
    orchestrator,
    backend,
    workflowCode: code.description,
    ...(workers === undefined ? {} : { workers }),
    ...(toWorkers === undefined ? {} : { workersTls: toWorkers }),
    ...(serveArtifacts === undefined ? {} : { serveArtifacts }),
    ...(servedTls === undefined ? {} : { artifactsTls: servedTls }),
    ...(store === undefined ? {} : { store }),
    ...(metricsPort === undefined ? {} : { metricsPort }),
  };
}

/** `--store` and its S3 flags (else $IPPRO_STORE ...); never together with `--artifacts`. */
function storeSettings(values: FlagValues, env: NodeJS.ProcessEnv): StoreSettings | undefined {
  let store: StoreSettings | undefined;
  try {
    store = parseStoreSettings(values, env);
  } catch (error) {
    throw error instanceof StoreSettingsError ? new OrchestratorUsageError(error.message) : error;
  }
  if (store !== undefined && values.artifacts !== undefined) throw new OrchestratorUsageError('give --artifacts DIR or --store URL, not both');
  return store;
}

function portNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new OrchestratorUsageError(`${flag} must be a port (0-65535), got '${text}'`);
  return port;
}

/**
 * The orchestrator process: serves the artifact store to the workers (when asked), dispatches
 * compute to them (or computes here), and runs until SIGINT/SIGTERM (the SDK shuts the worker
 * down gracefully), then returns 0.
 */
export async function runOrchestratorProcess(options: OrchestratorProcessOptions, log: (line: string) => void = lineLogger(createLogger({ name: 'ippro-orchestrator' }))): Promise<number> {
  if (options.writeBundle !== undefined) {
    log(`wrote the workflow bundle to ${await writeWorkflowBundle(options.writeBundle)}`);
    return 0;
  }
  const runtime = await initRuntime({ backend: options.backend });
  log(`tfjs backend: ${runtime.summary}`);
  const artifacts = options.orchestrator.artifacts;
  const logger = createLogger({ name: 'ippro-orchestrator' });
  installTemporalLogger(logger);
  const opened = options.store !== undefined ? await openArtifactStorage(options.store, { s3: { onRetry: log } }) : typeof artifacts === 'string' ? await ArtifactStore.open({ root: artifacts }) : artifacts;
  const store = new MeteredStorage(opened, orchestratorMetrics.artifactBytes);
  let artifactServer: ArtifactServer | undefined;
  if (options.serveArtifacts !== undefined) {
    artifactServer = await startArtifactServer({ store, address: options.serveArtifacts, ...(options.artifactsTls === undefined ? {} : { tls: options.artifactsTls }) });
    log(`orchestrator: artifact service listening on ${artifactServer.address}${options.artifactsTls === undefined ? '' : ' (TLS)'}`);
  }
  const executor =
    options.workers === undefined ? undefined : new GrpcExecutor({ workers: options.workers, log, ...(options.workersTls === undefined ? {} : { tls: options.workersTls }) });
  let handle;
  try {
    handle = await startOrchestrator({
      ...options.orchestrator,
      artifacts: store,
      ...(executor === undefined ? {} : { executor }),
      workerOptions: { ...options.orchestrator.workerOptions, interceptors: { activity: activityTelemetry(logger) } },
    });
  } catch (error) {
    executor?.close();
    await artifactServer?.close(1000);
    throw error;
  }
  const running = handle;
  const metrics = options.metricsPort === undefined ? undefined : await startMetricsServer({ port: options.metricsPort, healthy: () => running.worker.getState() === 'RUNNING' });
  if (metrics !== undefined) log(`orchestrator: metrics on ${metrics.url}`);
  const release = async (): Promise<void> => {
    executor?.close();
    await artifactServer?.close(2000);
    await metrics?.close();
  };
  log(`orchestrator: compute on ${options.workers === undefined ? 'this process' : `the workers ${options.workers}`}`);
  log(`orchestrator: workflow code ${options.workflowCode}`);
  log(`orchestrator: task queue '${handle.taskQueue}' on ${handle.address} (namespace '${handle.namespace}'), artifacts: ${handle.store.description}`);
  try {
    await handle.finished;
  } finally {
    await release();
  }
  return 0;
}
