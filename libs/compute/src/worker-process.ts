import { setModelLimits } from '@ippro/graph';
import type { ModelLimits } from '@ippro/graph';
import { createLogger, lineLogger, startMetricsServer } from '@ippro/telemetry';
import type { MetricsServer } from '@ippro/telemetry';
import { startWorker } from './worker-server';
import type { WorkerHandle, WorkerOptions } from './worker-server';

export interface WorkerProcessOptions {
  worker: WorkerOptions;
  /** On SIGTERM/SIGINT, abort running calls instead of letting them finish. */
  abortOnTerm: boolean;
  /** Port of the Prometheus endpoint (`--metrics-port`), on the worker's host; none without it. */
  metricsPort?: number;
  /** `--max-model-params`, `--max-activation-bytes`: every model this process builds is checked against them. */
  modelLimits?: ModelLimits;
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
  if (options.modelLimits !== undefined) setModelLimits(options.modelLimits);
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
