import { STORE_SETTINGS, storeSettingsOf } from '@ippro/artifact-store';
import { ARTIFACT_SERVICE_SETTINGS, INSECURE_SETTINGS, clientTlsOf, clientTlsSettings, serverTlsOf, serverTlsSettings } from '@ippro/protocol';
import { MODEL_LIMIT_SETTINGS, modelLimitsOf } from '@ippro/graph';
import { BACKEND_SETTINGS } from '@ippro/runtime';
import { SettingsError, TEXT, integerAtLeast, port, setting, toggle } from '@ippro/settings';
import type { Resolved } from '@ippro/settings';
import type { WorkerProcessOptions } from './worker-process';
import type { WorkerOptions } from './worker-server';

/** The worker's port when none is given (`--workers dns:NAME` of the orchestrator assumes it too). */
export const DEFAULT_WORKER_PORT = 7071;

/** The settings of `ippro-worker` and `ippro worker`: one declaration for both, their help and their files. */
export const WORKER_SETTINGS = {
  host: setting({ parse: TEXT, placeholder: 'HOST', help: 'address to bind; beyond loopback (0.0.0.0 on a cluster) the worker needs mutual TLS (--tls-cert, --tls-key, --tls-ca) or --insecure', default: '127.0.0.1' }),
  port: setting({ parse: port(true), help: 'port to bind; 0 picks a free one', default: String(DEFAULT_WORKER_PORT) }),
  ...BACKEND_SETTINGS,
  threads: setting({
    parse: integerAtLeast(1),
    help: 'intra-op threads of a native backend (tensorflow, tensorflow-gpu), fixed for the life of the worker: large reductions split by it, so every worker of a pool needs the same count (it is part of the kernel fingerprint); wasm and cpu use one',
    defaultHelp: 'TF_NUM_INTRAOP_THREADS, else the cores available',
  }),
  slots: setting({ parse: integerAtLeast(1), help: 'calls run at once; more are refused with RESOURCE_EXHAUSTED', defaultHelp: '1' }),
  cacheDir: setting({ parse: TEXT, placeholder: 'DIR', help: 'local artifact cache', defaultHelp: 'a new temporary directory' }),
  cacheBytes: setting({ parse: integerAtLeast(1), help: 'cache size bound, LRU', defaultHelp: '2 GiB' }),
  artifacts: setting({ parse: TEXT, placeholder: 'ADDR', help: 'host:port of the artifact service', defaultHelp: 'serve one here, over the cache' }),
  ...clientTlsSettings('artifacts', 'the artifact service'),
  ...STORE_SETTINGS,
  metricsPort: setting({ parse: port(true), help: 'serve Prometheus metrics at http://HOST:N/metrics and /healthz (0: a free port)' }),
  ...serverTlsSettings('', 'the worker service'),
  ...INSECURE_SETTINGS,
  ...ARTIFACT_SERVICE_SETTINGS,
  ...MODEL_LIMIT_SETTINGS,
  healthPort: setting({ parse: port(true), help: 'also serve grpc.health.v1 alone, plaintext, on HOST:N (for Kubernetes gRPC probes, which do not speak TLS)' }),
  dataDir: setting({ parse: TEXT, placeholder: 'DIR', help: 'directory of the CIFAR-10 .bin files' }),
  maxBatchSize: setting({ parse: integerAtLeast(1), help: 'largest batch_size accepted', defaultHelp: '1024' }),
  workerId: setting({ parse: TEXT, placeholder: 'NAME', help: 'name reported in capabilities', defaultHelp: 'host:port' }),
  abortOnTerm: toggle({ help: 'on SIGTERM abort running calls (UNAVAILABLE) instead of finishing them' }),
};

export type WorkerSettingsSet = typeof WORKER_SETTINGS;

/** The worker process's options from its resolved settings; SettingsError names what cannot go together. */
export function workerProcessOptionsFrom(resolved: Resolved<WorkerSettingsSet>): WorkerProcessOptions {
  const values = resolved.values;
  const worker: WorkerOptions = { address: `${values.host}:${values.port}`, backend: values.backend, maxArtifactBytes: values.maxArtifactBytes };
  if (values.slots !== undefined) worker.slots = values.slots;
  if (values.maxStoreBytes !== undefined) worker.maxStoreBytes = values.maxStoreBytes;
  if (values.threads !== undefined) worker.threads = values.threads;
  if (values.cacheBytes !== undefined) worker.cacheBytes = values.cacheBytes;
  if (values.maxBatchSize !== undefined) worker.maxBatchSize = values.maxBatchSize;
  if (values.cacheDir !== undefined) worker.cacheDir = values.cacheDir;
  if (values.dataDir !== undefined) worker.cifar10Dir = values.dataDir;
  if (values.workerId !== undefined) worker.workerId = values.workerId;
  const artifactsTls = clientTlsOf(resolved, 'artifacts');
  if (values.artifacts !== undefined) {
    worker.artifacts = values.artifacts;
    if (artifactsTls !== undefined) worker.artifactsTls = artifactsTls;
  } else if (artifactsTls !== undefined) {
    throw new SettingsError('--artifacts-ca/--artifacts-cert need --artifacts');
  }
  const store = storeSettingsOf(resolved);
  if (store !== undefined && worker.artifacts !== undefined) throw new SettingsError('give --artifacts (an artifact service) or --store (a shared store), not both');
  if (store !== undefined) worker.store = store;
  const tls = serverTlsOf(resolved, '');
  if (tls !== undefined) worker.tls = tls;
  if (values.insecure) worker.insecure = true;
  if (values.healthPort !== undefined) worker.healthAddress = `${values.host}:${values.healthPort}`;
  return { worker, abortOnTerm: values.abortOnTerm, modelLimits: modelLimitsOf(values), ...(values.metricsPort === undefined ? {} : { metricsPort: values.metricsPort }) };
}
