import { GrpcExecutor } from '@ippro/activities';
import { setModelLimits } from '@ippro/graph';
import type { ModelLimits } from '@ippro/graph';
import { ArtifactStore, openArtifactStorage } from '@ippro/artifact-store';
import type { StoreSettings } from '@ippro/artifact-store';
import { checkClientTransport, checkServerTransport, clientTlsFlags, serverTlsFlags, startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer, ClientTlsOptions, ServerTlsOptions } from '@ippro/protocol';
import { MeteredStorage, activityTelemetry, createLogger, installTemporalLogger, lineLogger, orchestratorMetrics, startMetricsServer } from '@ippro/telemetry';
import { initRuntime } from '@ippro/runtime';
import type { BackendRequest } from '@ippro/runtime';
import { startOrchestrator } from './orchestrator';
import type { OrchestratorOptions } from './orchestrator';
import { writeWorkflowBundle } from './workflow-bundle';

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
  /** `--max-artifact-bytes` of the artifact service it serves. */
  maxArtifactBytes?: number;
  /** `--max-store-bytes`: the quota of the store it serves; none without it. */
  maxStoreBytes?: number;
  /** Where the workflow code comes from, for the start-up log. */
  workflowCode: string;
  /** `--store`: the store shared with the workers (an S3 bucket), instead of `--artifacts DIR`. */
  store?: StoreSettings;
  /** `--metrics-port`: the Prometheus endpoint. */
  metricsPort?: number;
  /** `--insecure`: plaintext to the workers and from them beyond loopback, with a warning. */
  insecure?: boolean;
  /** `--max-model-params`, `--max-activation-bytes`: every model this process builds is checked against them. */
  modelLimits?: ModelLimits;
}

/** Paths of the flags and the defaults the process entry knows (its own directory). */
export interface OrchestratorDefaults {
  /** The bundle `npm run bundle:workflows` writes; used when present and current. */
  workflowBundle?: string;
}

const ARTIFACTS_TLS_FLAGS = serverTlsFlags('artifacts');

/** Mutual TLS beyond loopback, for the artifact service it serves and for its calls to the workers (before any work). */
function checkTransports(options: OrchestratorProcessOptions, log: (line: string) => void): void {
  const insecure = options.insecure === true;
  if (options.serveArtifacts !== undefined) checkServerTransport(options.serveArtifacts, options.artifactsTls, { what: 'the artifact service', flags: ARTIFACTS_TLS_FLAGS, insecure, warn: () => undefined });
  for (const target of options.workers?.split(',') ?? []) {
    checkClientTransport(target.trim(), options.workersTls, { what: 'a worker', flags: clientTlsFlags('workers'), insecure, warn: log });
  }
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
  checkTransports(options, log);
  if (options.modelLimits !== undefined) setModelLimits(options.modelLimits);
  const runtime = await initRuntime({ backend: options.backend });
  log(`tfjs backend: ${runtime.summary}`);
  const artifacts = options.orchestrator.artifacts;
  const logger = createLogger({ name: 'ippro-orchestrator' });
  installTemporalLogger(logger);
  const opened = options.store !== undefined ? await openArtifactStorage(options.store, { s3: { onRetry: log } }) : typeof artifacts === 'string' ? await ArtifactStore.open({ root: artifacts }) : artifacts;
  const store = new MeteredStorage(opened, orchestratorMetrics.artifactBytes);
  let artifactServer: ArtifactServer | undefined;
  if (options.serveArtifacts !== undefined) {
    artifactServer = await startArtifactServer({
      store,
      address: options.serveArtifacts,
      ...(options.artifactsTls === undefined ? {} : { tls: options.artifactsTls }),
      ...(options.maxArtifactBytes === undefined ? {} : { maxArtifactBytes: options.maxArtifactBytes }),
      ...(options.maxStoreBytes === undefined ? {} : { maxStoreBytes: options.maxStoreBytes }),
      insecure: options.insecure === true,
      tlsFlags: ARTIFACTS_TLS_FLAGS,
      log,
    });
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
