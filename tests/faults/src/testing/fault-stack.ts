import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Client } from '@temporalio/client';
import { ArtifactStore } from '@ippro/artifact-store';
import { connectTemporalClient } from '@ippro/orchestration';
import { findFreePort, startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { OwnedProcess, own } from './owned-process';

/** The workspace root (the directory of nx.json above this file). */
function workspaceRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no workspace root (nx.json) above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** The compiled entry points of the processes under test: run as programs, never imported. */
export const WORKER_MAIN = join(workspaceRoot(), 'apps', 'worker', 'dist', 'main.js');
export const ORCHESTRATOR_MAIN = join(workspaceRoot(), 'apps', 'orchestrator', 'dist', 'main.js');
export const CLI_BIN = join(workspaceRoot(), 'apps', 'cli', 'bin', 'ippro.js');

/** The backend every process of the suite computes with: wasm is deterministic and fast enough on one core. */
export const BACKEND = 'wasm';

export interface FaultStackOptions {
  /** Names the scratch directory (`ippro-faults-<name>-...`). */
  name: string;
  /** Worker processes to start (one slot each). */
  workers: number;
}

export interface WorkerProcess {
  index: number;
  process: OwnedProcess;
  /** host:port it serves on. */
  address: string;
  port: number;
}

/**
 * The distributed deployment, each part its own real process on loopback, so that any part can
 * be killed, stopped or restarted alone: a Temporal dev server on a database file,
 * `ippro-worker` processes, and an `ippro-orchestrator` process that runs the workflow and its
 * activities over its artifact store, serves that store to the workers (on a port kept across
 * restarts) and dispatches compute to them. The test process reads the same store directory.
 * Scratch space, ports and task queue are the test's own; stop() ends every process it started.
 */
export class FaultStack {
  readonly dir: string;
  readonly taskQueue: string;
  /** The current worker at each index. */
  readonly workers: WorkerProcess[] = [];
  /** Every worker process started, replaced ones included (their logs stay readable). */
  readonly allWorkerProcesses: OwnedProcess[] = [];
  orchestrator: OwnedProcess | undefined;
  /** Every orchestrator process started, killed ones included (their logs stay readable). */
  readonly orchestrators: OwnedProcess[] = [];
  private clientPromise: Promise<Client> | undefined;

  private constructor(
    options: FaultStackOptions,
    dir: string,
    public temporal: DevServer,
    readonly store: ArtifactStore,
    /** host:port where the orchestrator serves the store to the workers. */
    readonly artifactsAddress: string,
    private bundle: string,
  ) {
    this.dir = dir;
    this.taskQueue = `faults-${options.name}`;
  }

  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const dir = mkdtempSync(join(tmpdir(), `ippro-faults-${options.name}-`));
    const temporal = await startDevServer({ dbFile: join(dir, 'temporal.db') });
    own(temporal.pid, temporal.exited);
    const store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: false });
    const artifactsAddress = `127.0.0.1:${await findFreePort('127.0.0.1')}`;
    const stack = new FaultStack(options, dir, temporal, store, artifactsAddress, workflowBundle());
    try {
      for (let index = 0; index < options.workers; index += 1) await stack.startWorker(index);
      await stack.startOrchestrator();
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  /** The Temporal client of the test (reconnects by itself after a server restart). */
  client(): Promise<Client> {
    this.clientPromise ??= connectTemporalClient({ address: this.temporal.address, namespace: this.temporal.namespace });
    return this.clientPromise;
  }

  /** `host:port,...` of the workers started so far, in index order (a restarted worker keeps its address). */
  get workerPool(): string {
    return this.workers.map((worker) => worker.address).join(',');
  }

  /** Starts worker `index` (on `port`, default a free one): `ippro-worker --artifacts <service>`. */
  async startWorker(index: number, port = 0): Promise<WorkerProcess> {
    const args = [
      '--host', '127.0.0.1',
      '--port', String(port),
      '--backend', BACKEND,
      '--slots', '1',
      '--artifacts', this.artifactsAddress,
      '--cache-dir', join(this.dir, 'worker-cache', String(index)),
      '--worker-id', `w${index}`,
      '--abort-on-term',
    ];
    const process = new OwnedProcess(`worker ${index}`, WORKER_MAIN, args);
    this.allWorkerProcesses.push(process);
    const [, listening] = await process.waitForLine(/listening on (\S+)/);
    const address = listening as string;
    const worker: WorkerProcess = { index, process, address, port: Number(address.slice(address.lastIndexOf(':') + 1)) };
    this.workers[index] = worker;
    return worker;
  }

  /** Starts an orchestrator process on the stack's task queue, dispatching to the current worker pool and serving the store. */
  async startOrchestrator(): Promise<OwnedProcess> {
    try {
      return await this.launchOrchestrator();
    } catch (error) {
      // The workflow code was rebuilt since the bundle was written (a shared working tree): bundle it again.
      if (!/--workflow-bundle/.test((error as Error).message)) throw error;
      this.bundle = workflowBundle(true);
      return this.launchOrchestrator();
    }
  }

  private async launchOrchestrator(): Promise<OwnedProcess> {
    const args = [
      '--address', this.temporal.address,
      '--namespace', this.temporal.namespace,
      '--task-queue', this.taskQueue,
      '--artifacts', this.store.root,
      '--backend', BACKEND,
      '--workflow-bundle', this.bundle,
      '--workers', this.workerPool,
      '--serve-artifacts', this.artifactsAddress,
    ];
    const orchestrator = new OwnedProcess(`orchestrator ${this.orchestrators.length}`, ORCHESTRATOR_MAIN, args);
    await orchestrator.waitForLine(/orchestrator: task queue/);
    this.orchestrator = orchestrator;
    this.orchestrators.push(orchestrator);
    return orchestrator;
  }

  /** Stops the Temporal dev server (SIGTERM), waits `downMs`, and starts it again on the same database file and port. */
  async restartTemporal(downMs: number): Promise<{ stopRequestedAt: number; stoppedAt: number; servingAt: number }> {
    const { port, dbFile } = this.temporal;
    const stopRequestedAt = Date.now();
    await this.temporal.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.temporal = await startDevServer({ dbFile, port });
    own(this.temporal.pid, this.temporal.exited);
    return { stopRequestedAt, stoppedAt, servingAt: Date.now() };
  }

  /** Every log line of the orchestrator processes, in order. */
  orchestratorLines(pattern: RegExp): string[] {
    return this.orchestrators.flatMap((orchestrator) => orchestrator.linesMatching(pattern).map((line) => line.text));
  }

  /** Ends every process this stack started and removes its scratch directory. */
  async stop(): Promise<void> {
    const client = await this.clientPromise?.catch(() => undefined);
    await client?.connection.close().catch(() => undefined);
    await Promise.all(this.orchestrators.map((orchestrator) => orchestrator.stop()));
    await Promise.all(this.allWorkerProcesses.map((worker) => worker.stop()));
    await this.temporal.stop();
    if (process.env['IPPRO_FAULTS_KEEP'] !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

let bundlePath: string | undefined;

/**
 * The workflow code bundled once per test file (`ippro-orchestrator --write-bundle`), as a
 * production deployment does, so that every orchestrator process starts without webpack.
 */
export function workflowBundle(again = false): string {
  if (!again && bundlePath !== undefined && existsSync(bundlePath)) return bundlePath;
  const dir = mkdtempSync(join(tmpdir(), 'ippro-faults-bundle-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'workflow-bundle.js');
  const written = spawnSync(process.execPath, [ORCHESTRATOR_MAIN, '--write-bundle', file], { encoding: 'utf8' });
  if (written.status !== 0) throw new Error(`writing the workflow bundle failed: ${written.stderr}`);
  bundlePath = file;
  return file;
}
