import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ArtifactStore, CachedStorage, openArtifactStorage } from '@ippro/artifact-store';
import type { ArtifactStorage, StoreSettings } from '@ippro/artifact-store';
import {
  ARTIFACT_SERVICE_NAME,
  ArtifactClient,
  HealthService,
  MAX_MESSAGE_BYTES,
  ServiceStorage,
  addArtifactService,
  addStandardServices,
  checkClientTransport,
  clientTlsFlags,
  checkServerTransport,
  loadProtocol,
  serverCredentials,
  serverOptions,
  serverTlsFlags,
} from '@ippro/protocol';
import type { ClientTlsOptions, ServerTlsOptions } from '@ippro/protocol';
import { initRuntime, kernelFingerprint } from '@ippro/runtime';
import type { BackendRequest } from '@ippro/runtime';
import { MeteredStorage, workerMetrics } from '@ippro/telemetry';
import { WorkerService } from './worker-service';

/** The fully qualified name health checks and reflection use for the worker service. */
export const WORKER_SERVICE_NAME = 'ippro.v1.WorkerService';

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;
export const DEFAULT_MAX_BATCH_SIZE = 1024;

export interface WorkerOptions {
  /** host:port to bind; default 127.0.0.1:0 (a free port on loopback). */
  address?: string;
  /** TensorFlow.js backend; default auto. One backend per process: a second worker in a process must agree. */
  backend?: BackendRequest;
  /** Intra-op threads of a native backend (fixed: the numbers depend on it); default TF_NUM_INTRAOP_THREADS, else the cores. */
  threads?: number;
  /** Long calls at once; default 1 (one wasm or cpu worker uses one core). */
  slots?: number;
  /** Directory of the local artifact cache; default a new temporary directory. */
  cacheDir?: string;
  /** Size bound of the cache (LRU); default 2 GiB. */
  cacheBytes?: number;
  /** host:port of the ArtifactService the worker fetches inputs from and puts results to. */
  artifacts?: string;
  /** TLS for the artifact service connection. */
  artifactsTls?: ClientTlsOptions;
  /**
   * A shared local store used directly instead of a remote service (a shared volume, or tests).
   * Without `artifacts` and `artifactStore`, the worker serves the ArtifactService itself over
   * its cache (clients put models to the worker and get results from it).
   */
  artifactStore?: ArtifactStore;
  /**
   * A store shared with the orchestrator (an S3 bucket, `--store s3://...`), opened by the worker
   * and read through its local cache, instead of the artifact service of `artifacts`.
   */
  store?: StoreSettings;
  /** TLS for the worker's server; with clientCaFile, mutual TLS. */
  tls?: ServerTlsOptions;
  /**
   * Plaintext (or TLS without client certificates) beyond loopback, logged as a warning. Without
   * it a worker on a non-loopback address refuses to start unless it has mutual TLS, and so does
   * its connection to a non-loopback artifact service.
   */
  insecure?: boolean;
  /**
   * host:port of a second, plaintext server with grpc.health.v1 alone: Kubernetes gRPC probes do
   * not speak TLS, and health states (SERVING, NOT_SERVING while draining) reveal nothing a
   * caller could use; every other method stays behind the worker's own (mutual TLS) port.
   */
  healthAddress?: string;
  /** Directory of the CIFAR-10 .bin files. */
  cifar10Dir?: string;
  maxBatchSize?: number;
  /** Built models kept between calls for reuse (scoring and evaluation); default 4. */
  idleModels?: number;
  /** Largest artifact one Put may send when the worker serves the ArtifactService itself; default 4 GiB. */
  maxArtifactBytes?: number;
  /** Quota of the cache when the worker serves the ArtifactService over it (Puts past it are refused); default none (the cache evicts). */
  maxStoreBytes?: number;
  /** Maximum gRPC message size, both directions; default MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  /** Stable name, e.g. the pod name; default host:port. */
  workerId?: string;
  /** Lines for the log; calls add their method and job id as fields. */
  log?: (line: string, fields?: Record<string, unknown>) => void;
}

export interface ShutdownOptions {
  /** End running calls at their next checkpoint (UNAVAILABLE) instead of letting them finish. */
  abort?: boolean;
  /** After this long, running calls are cancelled and the server closed regardless; default 10 min. */
  graceMs?: number;
}

export interface WorkerHandle {
  readonly address: string;
  readonly port: number;
  readonly workerId: string;
  readonly backend: string;
  /** The worker's kernel fingerprint (GetCapabilities), naming its numeric path. */
  readonly kernelFingerprint: string;
  readonly server: grpc.Server;
  readonly health: HealthService;
  readonly service: WorkerService;
  /** True when the worker serves the ArtifactService itself. */
  readonly servesArtifacts: boolean;
  /** host:port of the plaintext health-only server, when asked for one. */
  readonly healthAddress?: string;
  /** Stops accepting calls, finishes or aborts running ones, closes the server. Idempotent. */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

function version(): string {
  return (require('../package.json') as { version: string }).version;
}

function checkPositiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`worker: ${what} must be a positive integer, got ${value}`);
  return value;
}

interface WorkerStorage {
  /** Where the worker reads its inputs and writes its results. */
  storage: ArtifactStorage;
  /** The store on this worker's disk: its cache, or the shared store it was given. */
  local: ArtifactStore;
  /** The cache, when the worker serves the ArtifactService over it (no other store to use). */
  ownStore?: ArtifactStore;
}

/**
 * A shared local store as it is; else the worker's cache (LRU, on disk) in front of the shared
 * store (a bucket) or the artifact service; with neither, the cache itself, served to clients.
 */
async function openWorkerStorage(options: WorkerOptions, cacheBytes: number, maxMessageBytes: number): Promise<WorkerStorage> {
  if (options.artifactStore !== undefined) return { storage: options.artifactStore, local: options.artifactStore };
  const cache = await ArtifactStore.open({ root: options.cacheDir ?? mkdtempSync(join(tmpdir(), 'ippro-worker-cache-')), maxBytes: cacheBytes });
  if (options.store !== undefined) {
    const shared = await openArtifactStorage(options.store, options.log === undefined ? {} : { s3: { onRetry: options.log } });
    return { storage: new CachedStorage(shared, cache), local: cache };
  }
  if (options.artifacts !== undefined) {
    checkClientTransport(options.artifacts, options.artifactsTls, {
      what: 'the artifact service',
      flags: clientTlsFlags('artifacts'),
      insecure: options.insecure === true,
      warn: options.log ?? (() => undefined),
    });
    const client = new ArtifactClient(options.artifacts, { ...(options.artifactsTls ? { tls: options.artifactsTls } : {}), maxMessageBytes });
    return { storage: new CachedStorage(new ServiceStorage(client), cache), local: cache };
  }
  return { storage: cache, local: cache, ownStore: cache };
}

/** grpc.health.v1 alone on a plaintext port; a failure to bind closes what the worker opened. */
async function startHealthServer(health: HealthService, requested: string, worker: grpc.Server, artifacts: { close(): void }): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  health.addToServer(server);
  try {
    const port = await bind(server, requested, grpc.ServerCredentials.createInsecure());
    return { server, address: `${requested.slice(0, requested.lastIndexOf(':'))}:${port}` };
  } catch (error) {
    server.forceShutdown();
    worker.forceShutdown();
    artifacts.close();
    throw new Error(`worker: cannot listen for health checks on ${requested}: ${(error as Error).message}`, { cause: error });
  }
}

/** Starts a compute worker: WorkerService, health and reflection on one gRPC server. */
export async function startWorker(options: WorkerOptions = {}): Promise<WorkerHandle> {
  const slots = checkPositiveInteger(options.slots ?? 1, 'slots');
  const maxBatchSize = checkPositiveInteger(options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE, 'max batch size');
  const cacheBytes = checkPositiveInteger(options.cacheBytes ?? DEFAULT_CACHE_BYTES, 'cache bytes');
  const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const requested = options.address ?? '127.0.0.1:0';
  checkServerTransport(requested, options.tls, {
    what: 'the worker service',
    flags: serverTlsFlags(''),
    insecure: options.insecure === true,
    warn: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  });
  const runtime = await initRuntime({
    backend: options.backend ?? 'auto',
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.log ? { report: options.log } : {}),
  });
  const { fingerprint, tfjs } = kernelFingerprint({ backend: runtime.backend, threads: runtime.threads });

  const { storage, local, ownStore } = await openWorkerStorage(options, cacheBytes, maxMessageBytes);
  const artifacts = new MeteredStorage(storage, workerMetrics.artifactBytes);

  const server = new grpc.Server(serverOptions(maxMessageBytes));
  let port: number;
  try {
    port = await bind(server, requested, serverCredentials(options.tls));
  } catch (error) {
    server.forceShutdown();
    artifacts.close();
    throw new Error(`worker: cannot listen on ${requested}: ${(error as Error).message}`, { cause: error });
  }
  const host = requested.slice(0, requested.lastIndexOf(':'));
  const address = `${host}:${port}`;
  const workerId = options.workerId ?? (host === '0.0.0.0' || host === '[::]' ? `${hostname()}:${port}` : address);
  const service = new WorkerService({
    workerId,
    version: version(),
    backend: runtime.backend,
    threads: runtime.threads,
    kernelFingerprint: fingerprint,
    tfjsVersion: tfjs,
    slots,
    maxBatchSize,
    maxMessageBytes,
    artifacts,
    artifactCacheBytes: local.maxBytes ?? 0,
    ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }),
    ...(options.idleModels === undefined ? {} : { idleModels: options.idleModels }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const services = [WORKER_SERVICE_NAME];
  server.addService(loadProtocol().ippro.v1.WorkerService.service, service.handlers());
  if (ownStore !== undefined) {
    addArtifactService(server, ownStore, {
      ...(options.maxArtifactBytes === undefined ? {} : { maxArtifactBytes: options.maxArtifactBytes }),
      ...(options.maxStoreBytes === undefined ? {} : { maxStoreBytes: options.maxStoreBytes }),
    });
    services.push(ARTIFACT_SERVICE_NAME);
  }
  const health = new HealthService(Object.fromEntries(['', ...services].map((name) => [name, 'SERVING' as const])));
  addStandardServices(server, health, services);
  const healthServer = options.healthAddress === undefined ? undefined : await startHealthServer(health, options.healthAddress, server, artifacts);

  let closing: Promise<void> | undefined;
  const shutdown = (shutdownOptions: ShutdownOptions = {}): Promise<void> => {
    closing ??= (async () => {
      health.setAllNotServing();
      health.endWatches();
      service.drain();
      if (shutdownOptions.abort === true) service.abortAll('the worker is shutting down');
      const graceMs = shutdownOptions.graceMs ?? 10 * 60 * 1000;
      // No new connections or calls from here on; running calls finish (or stop at a checkpoint).
      const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      healthServer?.server.forceShutdown();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), graceMs);
      });
      if ((await Promise.race([Promise.all([closed, service.idle()]), expired])) === 'expired') {
        server.forceShutdown();
        service.abortAll('the shutdown grace period expired');
        await service.idle();
      }
      clearTimeout(timer);
      service.releaseModels();
      artifacts.close();
    })();
    return closing;
  };

  if (healthServer !== undefined) options.log?.(`worker ${workerId}: health checks (plaintext, grpc.health.v1 only) on ${healthServer.address}`);
  options.log?.(`worker ${workerId} listening on ${address} (backend ${runtime.backend}, ${runtime.threads} thread(s), kernel fingerprint ${fingerprint}, ${slots} slot(s), artifacts: ${ownStore ? 'served here' : artifacts.description})`);
  return { address, port, workerId, backend: runtime.backend, kernelFingerprint: fingerprint, server, health, service, servesArtifacts: ownStore !== undefined, ...(healthServer === undefined ? {} : { healthAddress: healthServer.address }), shutdown };
}
