import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { WORKER_SETTINGS } from '@ippro/compute';
import { intraOpThreadsPerProcess } from '@ippro/runtime';
import { commandLineFor } from '@ippro/settings';

/** The `ippro` executable: the dev stack's workers are `ippro worker` processes (libs/compute's worker entry). */
const CLI_BIN = resolve(__dirname, '../bin/ippro.js');

/** How a worker process ended: its exit code, or the signal that ended it. */
interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface WorkerProcess {
  child: ChildProcess;
  address: string;
  exited: Promise<WorkerExit>;
  /** Its Prometheus endpoint, with --metrics-port. */
  metrics?: string;
  startedAt: number;
}

/** How the workers reach the artifacts (`--artifacts ADDR`, or the shared store's flags and credentials), and whether they serve metrics. */
export interface WorkerWiring {
  /** Worker flags, derived from its settings. */
  args: string[];
  env: Record<string, string>;
  metrics: boolean;
}

export interface WorkerSupervisorOptions {
  count: number;
  stateDir: string;
  backend: string;
  dataDir?: string;
  wiring: WorkerWiring;
  /** The workers' own log lines (`ippro dev --verbose`). */
  log: (line: string) => void;
  /** What happens to the pool: a worker stopped, restarted, or could not restart. Always shown. */
  notify: (line: string) => void;
  /** A worker was restarted on its address (the pool should connect to it afresh; dev.json lists its new pid). */
  restarted: (index: number, address: string) => void;
  /** A worker exited (the pool should notice now). */
  exited: (index: number) => void;
}

/** First wait before restarting a worker, doubled after each restart that fails or dies young, up to the last. */
const BACKOFF_MS = { first: 1000, max: 30_000 };
/** A worker that served this long before it stopped restarts after the first wait again. */
const STABLE_MS = 60_000;
const START_TIMEOUT_MS = 60_000;

/** The native backend's intra-op threads per local worker: the cores shared out among them. */
function workerThreadEnv(workers: number): Record<string, string> {
  return { TF_NUM_INTRAOP_THREADS: String(intraOpThreadsPerProcess(workers)) };
}

function describeExit(exit: WorkerExit): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}

/**
 * The local workers of `ippro dev`: child processes running `ippro worker` on loopback. A worker
 * that exits is started again on the same address (and metrics port), after a wait that grows
 * while it keeps failing; the orchestrator's pool keeps its address, so it takes the worker back
 * at its next health check.
 */
export class WorkerSupervisor {
  private readonly workers: WorkerProcess[] = [];
  private readonly backoff: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;

  private constructor(private readonly options: WorkerSupervisorOptions) {}

  /** Starts `options.count` workers; resolves when each serves (rejects, stopping the others, when one does not). */
  static async start(options: WorkerSupervisorOptions): Promise<WorkerSupervisor> {
    const supervisor = new WorkerSupervisor(options);
    try {
      const started = await Promise.all(Array.from({ length: options.count }, (_, index) => supervisor.spawn(index, '0', '0')));
      started.forEach((worker, index) => supervisor.adopt(index, worker));
    } catch (error) {
      await supervisor.stop();
      throw error;
    }
    return supervisor;
  }

  get addresses(): string[] {
    return this.workers.map((worker) => worker.address);
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.child.pid ?? 0);
  }

  get metrics(): string[] {
    return this.workers.flatMap((worker) => (worker.metrics === undefined ? [] : [worker.metrics]));
  }

  /** Workers running now. */
  get running(): number {
    return this.workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null).length;
  }

  /** No worker is restarted from now on (the stack is stopping). */
  stopRestarting(): void {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  async stop(): Promise<void> {
    this.stopRestarting();
    await Promise.all(this.workers.map(stopWorker));
  }

  private adopt(index: number, worker: WorkerProcess): void {
    this.workers[index] = worker;
    void worker.exited.then((exit) => this.onExit(index, worker, exit));
  }

  private onExit(index: number, worker: WorkerProcess, exit: WorkerExit): void {
    if (this.stopping) return;
    this.options.exited(index);
    const lived = Date.now() - worker.startedAt;
    const wait = lived >= STABLE_MS ? BACKOFF_MS.first : (this.backoff[index] ?? BACKOFF_MS.first);
    this.backoff[index] = Math.min(BACKOFF_MS.max, wait * 2);
    this.options.notify(
      `worker ${index} (${worker.address}) exited (${describeExit(exit)}); ${this.running} of ${this.workers.length} workers running; restarting it in ${wait / 1000} s`,
    );
    this.restartLater(index, worker, wait);
  }

  private restartLater(index: number, previous: WorkerProcess, wait: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopping) return;
      const port = previous.address.slice(previous.address.lastIndexOf(':') + 1);
      const metricsPort = previous.metrics === undefined ? '0' : new URL(previous.metrics).port;
      this.spawn(index, port, metricsPort).then(
        (worker) => {
          if (this.stopping) {
            void stopWorker(worker);
            return;
          }
          this.adopt(index, worker);
          this.options.notify(`worker ${index} (${worker.address}) restarted, pid ${worker.child.pid ?? '?'}; ${this.running} of ${this.workers.length} workers running`);
          this.options.restarted(index, worker.address);
        },
        (error: unknown) => {
          if (this.stopping) return;
          const next = this.backoff[index] ?? BACKOFF_MS.first;
          this.backoff[index] = Math.min(BACKOFF_MS.max, next * 2);
          this.options.notify(`worker ${index} (${previous.address}) did not restart: ${(error as Error).message}; trying again in ${next / 1000} s`);
          this.restartLater(index, previous, next);
        },
      );
    }, wait);
    this.timers.add(timer);
  }

  private async spawn(index: number, port: string, metricsPort: string): Promise<WorkerProcess> {
    const { options } = this;
    const settings = commandLineFor(WORKER_SETTINGS, {
      host: '127.0.0.1',
      port,
      backend: options.backend,
      ...(options.wiring.metrics ? { metricsPort } : {}),
      cacheDir: join(options.stateDir, 'worker-cache', String(index)),
      workerId: `dev-${index}`,
      abortOnTerm: true,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
    const args = [CLI_BIN, 'worker', ...settings, ...options.wiring.args];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...workerThreadEnv(options.count), ...options.wiring.env } });
    const startedAt = Date.now();
    const exited = new Promise<WorkerExit>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => options.log(`worker ${index}: ${line}`));
    let metrics: string | undefined;
    const address = await new Promise<string>((found, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`worker ${index} did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      let listening: string | undefined;
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        listening ??= /listening on (\S+)/.exec(line)?.[1];
        metrics ??= /metrics on (\S+)/.exec(line)?.[1];
        if (listening !== undefined && (!options.wiring.metrics || metrics !== undefined)) {
          clearTimeout(timer);
          found(listening);
        }
      });
      void exited.then((exit) => {
        clearTimeout(timer);
        fail(new Error(`worker ${index} stopped before serving (${describeExit(exit)})`));
      });
    });
    return { child, address, exited, startedAt, ...(metrics === undefined ? {} : { metrics }) };
  }
}

async function stopWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 5000);
  await worker.exited;
  clearTimeout(timer);
}
