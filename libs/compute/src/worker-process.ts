import { parseArgs } from 'node:util';
import { STORE_FLAG_OPTIONS, StoreSettingsError, parseStoreSettings, storeFlagsUsage } from '@ippro/artifacts';
import { parseBackendRequest } from '@ippro/runtime';
import { createLogger, lineLogger, startMetricsServer } from '@ippro/telemetry';
import type { MetricsServer } from '@ippro/telemetry';
import { startWorker } from './worker-server';
import type { WorkerHandle, WorkerOptions } from './worker-server';

export const WORKER_USAGE = `usage: ippro worker [options]

  --host HOST            address to bind (default 0.0.0.0)
  --port N               port to bind; 0 picks a free one (default 7071)
  --backend NAME         auto | tensorflow-gpu | tensorflow | wasm | cpu (default auto)
  --slots N              calls run at once; more are refused with RESOURCE_EXHAUSTED (default 1)
  --cache-dir DIR        local artifact cache (default a new temporary directory)
  --cache-bytes N        cache size bound, LRU (default 2 GiB)
  --artifacts ADDR       host:port of the artifact service (default: serve one here, over the cache)
  --artifacts-ca FILE    CA that signed the artifact service's certificate (TLS to it)
  --artifacts-cert FILE  client certificate for the artifact service (mutual TLS, with --artifacts-key)
  --artifacts-key FILE
${storeFlagsUsage(22)}  --metrics-port N       serve Prometheus metrics at http://HOST:N/metrics and /healthz (0: a free port)
  --tls-cert FILE        serve TLS with this certificate chain ...
  --tls-key FILE         ... and key
  --tls-ca FILE          require client certificates signed by this CA (mutual TLS)
  --data-dir DIR         directory of the CIFAR-10 .bin files
  --max-batch-size N     largest batch_size accepted (default 1024)
  --worker-id NAME       name reported in capabilities (default host:port)
  --abort-on-term        on SIGTERM abort running calls (UNAVAILABLE) instead of finishing them
`;

export interface WorkerProcessOptions {
  worker: WorkerOptions;
  /** On SIGTERM/SIGINT, abort running calls instead of letting them finish. */
  abortOnTerm: boolean;
  /** Port of the Prometheus endpoint (`--metrics-port`), on the worker's host; none without it. */
  metricsPort?: number;
}

/** A command-line flag was wrong; the message names it. */
export class WorkerUsageError extends Error {
  override readonly name = 'WorkerUsageError';
}

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
    throw new WorkerUsageError(`${flag} must be an integer >= ${min}, got '${value}'`);
  }
  return parsed;
}

/** Parses the flags of `ippro worker` (see WORKER_USAGE). */
export function parseWorkerArgs(argv: readonly string[]): WorkerProcessOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        backend: { type: 'string' },
        slots: { type: 'string' },
        'cache-dir': { type: 'string' },
        'cache-bytes': { type: 'string' },
        artifacts: { type: 'string' },
        'artifacts-ca': { type: 'string' },
        'artifacts-cert': { type: 'string' },
        'artifacts-key': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'data-dir': { type: 'string' },
        'max-batch-size': { type: 'string' },
        'worker-id': { type: 'string' },
        'abort-on-term': { type: 'boolean' },
        ...STORE_FLAG_OPTIONS,
        'metrics-port': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new WorkerUsageError((error as Error).message);
  }
  const port = integer('--port', values.port, 0) ?? 7071;
  if (port > 65535) throw new WorkerUsageError(`--port must be at most 65535, got ${port}`);
  const worker: WorkerOptions = { address: `${values.host ?? '0.0.0.0'}:${port}` };
  try {
    worker.backend = parseBackendRequest(values.backend ?? 'auto');
  } catch (error) {
    throw new WorkerUsageError(`--backend: ${(error as Error).message}`);
  }
  const slots = integer('--slots', values.slots, 1);
  if (slots !== undefined) worker.slots = slots;
  const cacheBytes = integer('--cache-bytes', values['cache-bytes'], 1);
  if (cacheBytes !== undefined) worker.cacheBytes = cacheBytes;
  const maxBatchSize = integer('--max-batch-size', values['max-batch-size'], 1);
  if (maxBatchSize !== undefined) worker.maxBatchSize = maxBatchSize;
  if (values['cache-dir'] !== undefined) worker.cacheDir = values['cache-dir'];
  if (values['data-dir'] !== undefined) worker.cifar10Dir = values['data-dir'];
  if (values['worker-id'] !== undefined) worker.workerId = values['worker-id'];
  if (values.artifacts !== undefined) {
    worker.artifacts = values.artifacts;
    const [caFile, certFile, keyFile] = [values['artifacts-ca'], values['artifacts-cert'], values['artifacts-key']];
    if ((certFile === undefined) !== (keyFile === undefined)) throw new WorkerUsageError('--artifacts-cert and --artifacts-key go together');
    if (caFile !== undefined || certFile !== undefined) {
      worker.artifactsTls = { ...(caFile === undefined ? {} : { caFile }), ...(certFile === undefined ? {} : { certFile, keyFile: keyFile as string }) };
    }
  } else if (values['artifacts-ca'] !== undefined || values['artifacts-cert'] !== undefined) {
    throw new WorkerUsageError('--artifacts-ca/--artifacts-cert need --artifacts');
  }
  try {
    const store = parseStoreSettings(values);
    if (store !== undefined && worker.artifacts !== undefined) throw new WorkerUsageError('give --artifacts (an artifact service) or --store (a shared store), not both');
    if (store !== undefined) worker.store = store;
  } catch (error) {
    throw error instanceof StoreSettingsError ? new WorkerUsageError(error.message) : error;
  }
  const metricsPort = integer('--metrics-port', values['metrics-port'], 0);
  if (metricsPort !== undefined && metricsPort > 65535) throw new WorkerUsageError(`--metrics-port must be at most 65535, got ${metricsPort}`);
  const [certFile, keyFile, clientCaFile] = [values['tls-cert'], values['tls-key'], values['tls-ca']];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new WorkerUsageError('--tls-cert and --tls-key go together');
  if (clientCaFile !== undefined && certFile === undefined) throw new WorkerUsageError('--tls-ca (mutual TLS) needs --tls-cert and --tls-key');
  if (certFile !== undefined && keyFile !== undefined) worker.tls = { certFile, keyFile, ...(clientCaFile === undefined ? {} : { clientCaFile }) };
  return { worker, abortOnTerm: values['abort-on-term'] === true, ...(metricsPort === undefined ? {} : { metricsPort }) };
}

/**
 * Runs a worker until SIGTERM or SIGINT: then it stops accepting work, finishes (or with
 * abortOnTerm aborts) the running calls, closes the server and resolves with exit code 0.
 * A second signal while finishing aborts the running calls.
 * Prints `ippro worker listening on HOST:PORT ...` on stdout once it serves.
 */
export async function runWorkerProcess(
  options: WorkerProcessOptions,
  log: (line: string, fields?: Record<string, unknown>) => void = lineLogger(createLogger({ name: 'ippro-worker' })),
): Promise<number> {
  const handle: WorkerHandle = await startWorker({ ...options.worker, log: options.worker.log ?? log });
  process.stdout.write(`ippro worker listening on ${handle.address} (id ${handle.workerId}, backend ${handle.backend})\n`);
  const metrics = await startWorkerMetrics(options, handle);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal: stop waiting for running calls.
        log(`${signal} again: aborting ${handle.service.activeCalls} running call(s)`);
        handle.service.abortAll(`${signal} received twice`);
        return;
      }
      stopping = true;
      const running = handle.service.activeCalls;
      log(`${signal}: shutting down; ${options.abortOnTerm ? 'aborting' : 'finishing'} ${running} running call(s)`);
      handle.shutdown({ abort: options.abortOnTerm }).then(
        () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          log('worker stopped');
          void metrics?.close();
          resolve(0);
        },
        (error: unknown) => {
          log(`shutdown failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** The Prometheus endpoint of `--metrics-port`, on the worker's host; prints its address on stdout. */
async function startWorkerMetrics(options: WorkerProcessOptions, handle: WorkerHandle): Promise<MetricsServer | undefined> {
  if (options.metricsPort === undefined) return undefined;
  const address = options.worker.address ?? handle.address;
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  try {
    const metrics = await startMetricsServer({ port: options.metricsPort, host, healthy: () => handle.health.status('') === 'SERVING' });
    process.stdout.write(`ippro worker metrics on ${metrics.url}\n`);
    return metrics;
  } catch (error) {
    await handle.shutdown({ abort: true });
    throw error;
  }
}
