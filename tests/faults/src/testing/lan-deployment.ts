import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { S3ArtifactStore, formatS3Url } from '@ippro/artifact-store';
import { startSeaweedFs } from '@ippro/artifact-store/testing';
import type { SeaweedFs } from '@ippro/artifact-store/testing';
import { connectTemporalClient } from '@ippro/orchestration';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { BACKEND, ORCHESTRATOR_MAIN, WORKER_MAIN, workflowBundle } from './fault-stack';
import type { WorkerProcess } from './fault-stack';
import { OwnedProcess, own } from './owned-process';
import { VirtualLan } from './virtual-lan';

/** The compute workers' default port: `--workers dns:NAME` without a port means this one. */
export const WORKER_PORT = 7071;
/** The Temporal frontend's port on the orchestrator's host (the CLI's default). */
const TEMPORAL_PORT = 7233;
const BUCKET = 'ippro-faults';
const PREFIX = 'lan';

/** How the orchestrator is told where the workers are: `dns:NAME` (a name with every worker's address) or `host:port,...`. */
export type PoolKind = 'dns' | 'list';

export interface LanDeploymentOptions {
  /** Names the scratch directory and the task queue. */
  name: string;
  workers: number;
  /** `--workers` of the first orchestrator. */
  pool: PoolKind;
  /** The `weed` binary (default: found on PATH and in pip's script directories). */
  weedPath?: string;
}

/**
 * The distributed deployment on separate hosts of a virtual LAN (./virtual-lan.ts), each host a
 * network namespace with its own address: `storage` runs SeaweedFS (the S3 bucket every process
 * shares), `orchestrator` runs the Temporal dev server and `ippro-orchestrator` (the control
 * host), `worker<i>` each run one `ippro-worker` on the workers' default port. The test, in this
 * (the root) namespace, is one more host on the LAN: it starts runs through Temporal and reads
 * the bucket over the network. Temporal lives on the orchestrator's host because the dev server
 * bound to one non-loopback address cannot reach its own services on 127.0.0.1; bound to 0.0.0.0
 * inside that namespace it serves only there (loopback and the LAN). With pool 'dns' the
 * orchestrator finds the workers through one name that its host's /etc/hosts gives every
 * worker's address (`ip netns exec` mounts /etc/netns/NS/hosts there), resolved by getaddrinfo
 * as a DNS name would be. stop() ends every process and removes the LAN.
 */
export class LanDeployment {
  readonly taskQueue: string;
  /** The current worker at each index. */
  readonly workers: WorkerProcess[] = [];
  /** Every worker process started (their logs stay readable). */
  readonly allWorkerProcesses: OwnedProcess[] = [];
  readonly orchestrators: OwnedProcess[] = [];
  /** The name the workers are found under (pool 'dns'). */
  readonly workersName: string;
  private temporalServer: DevServer | undefined;
  private seaweed: SeaweedFs | undefined;
  private s3Store: S3ArtifactStore | undefined;
  private clientPromise: Promise<Client> | undefined;
  /** Removes the scratch directory also when the runner stops this file (the exit handlers run; after() does not). */
  private readonly removeDir = (): void => {
    // Processes being killed at exit may still write into it: retry a few times.
    if (process.env['IPPRO_FAULTS_KEEP'] !== '1') rmSync(this.dir, { recursive: true, force: true, maxRetries: 5 });
  };

  private constructor(
    name: string,
    readonly dir: string,
    readonly lan: VirtualLan,
    private readonly workerCount: number,
    private readonly weedPath: string | undefined,
  ) {
    this.taskQueue = `faults-${name}`;
    this.workersName = `workers-${lan.suffix}.ippro.test`;
    process.once('exit', this.removeDir);
  }

  static async start(options: LanDeploymentOptions): Promise<LanDeployment> {
    const dir = mkdtempSync(join(tmpdir(), `ippro-faults-${options.name}-`));
    const workerHosts = Array.from({ length: options.workers }, (_, index) => `worker${index}`);
    let lan: VirtualLan;
    try {
      lan = VirtualLan.create(['orchestrator', 'storage', ...workerHosts]);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const deployment = new LanDeployment(options.name, dir, lan, options.workers, options.weedPath);
    try {
      await deployment.startServices();
      for (let index = 0; index < deployment.workerCount; index += 1) await deployment.startWorker(index);
      await deployment.startOrchestrator(options.pool);
    } catch (error) {
      await deployment.stop();
      throw error;
    }
    return deployment;
  }

  private async startServices(): Promise<void> {
    // Bound to every address of the orchestrator's host, which are its loopback and its LAN address only.
    this.temporalServer = await startDevServer({
      dbFile: join(this.dir, 'temporal.db'),
      ip: this.lan.host('orchestrator').address,
      bindIp: '0.0.0.0',
      port: TEMPORAL_PORT,
      launcher: this.lan.launcher('orchestrator'),
    });
    own(this.temporalServer.pid, this.temporalServer.exited);
    this.seaweed = await startSeaweedFs({
      ip: this.lan.host('storage').address,
      launcher: this.lan.launcher('storage'),
      dir: join(this.dir, 'seaweedfs'),
      buckets: [BUCKET],
      ...(this.weedPath === undefined ? {} : { weedPath: this.weedPath }),
    });
    this.s3Store = await S3ArtifactStore.open({ bucket: BUCKET, prefix: PREFIX, ...this.s3Connection() });
    const addresses = Array.from({ length: this.workerCount }, (_, index) => this.lan.host(`worker${index}`).address);
    this.lan.setHostsFile('orchestrator', { [this.workersName]: addresses });
  }

  private s3Connection(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
    const seaweed = this.seaweed as SeaweedFs;
    return { endpoint: seaweed.endpoint, region: seaweed.region, credentials: { accessKeyId: seaweed.accessKeyId, secretAccessKey: seaweed.secretAccessKey } };
  }

  /** The store flags every process gets: the shared bucket, its endpoint on the storage host, the key (test-only). */
  private storeFlags(): string[] {
    const { endpoint, region, credentials } = this.s3Connection();
    return [
      '--store', formatS3Url({ bucket: BUCKET, prefix: PREFIX }),
      '--s3-endpoint', endpoint,
      '--s3-region', region,
      '--s3-access-key-id', credentials.accessKeyId,
      '--s3-secret-access-key', credentials.secretAccessKey,
    ];
  }

  get temporal(): DevServer {
    if (this.temporalServer === undefined) throw new Error('the Temporal server is not running');
    return this.temporalServer;
  }

  /** The shared bucket, as the test reads and writes it (from the root namespace, over the LAN). */
  get store(): S3ArtifactStore {
    if (this.s3Store === undefined) throw new Error('the store is not open');
    return this.s3Store;
  }

  /** Starts `ippro-worker` on host worker<index>, on its address and the default port. */
  async startWorker(index: number): Promise<WorkerProcess> {
    const host = this.lan.host(`worker${index}`);
    const args = [
      '--host', host.address,
      '--port', String(WORKER_PORT),
      '--backend', BACKEND,
      '--slots', '1',
      ...this.storeFlags(),
      '--cache-dir', join(this.dir, 'worker-cache', String(index)),
      '--worker-id', `w${index}`,
      '--abort-on-term',
    ];
    const process = new OwnedProcess(`worker ${index}`, WORKER_MAIN, args, this.lan.launcher(host.name));
    this.allWorkerProcesses.push(process);
    const [, listening] = await process.waitForLine(/listening on (\S+)/);
    const address = listening as string;
    const worker: WorkerProcess = { index, process, address, port: WORKER_PORT };
    this.workers[index] = worker;
    return worker;
  }

  /** `--workers`: `dns:NAME` (the port implied) or the list of the workers' addresses. */
  workerPool(kind: PoolKind): string {
    return kind === 'dns' ? `dns:${this.workersName}` : this.workers.map((worker) => worker.address).join(',');
  }

  /** Starts an orchestrator on its host (stop the previous one first). */
  async startOrchestrator(pool: PoolKind): Promise<OwnedProcess> {
    const args = [
      '--address', this.temporal.address,
      '--namespace', this.temporal.namespace,
      '--task-queue', this.taskQueue,
      ...this.storeFlags(),
      '--backend', BACKEND,
      '--workflow-bundle', workflowBundle(),
      '--workers', this.workerPool(pool),
    ];
    const orchestrator = new OwnedProcess(`orchestrator ${this.orchestrators.length}`, ORCHESTRATOR_MAIN, args, this.lan.launcher('orchestrator'));
    this.orchestrators.push(orchestrator);
    await orchestrator.waitForLine(/orchestrator: task queue/);
    return orchestrator;
  }

  client(): Promise<Client> {
    this.clientPromise ??= connectTemporalClient({ address: this.temporal.address, namespace: this.temporal.namespace });
    return this.clientPromise;
  }

  orchestratorLines(pattern: RegExp): string[] {
    return this.orchestrators.flatMap((orchestrator) => orchestrator.linesMatching(pattern).map((line) => line.text));
  }

  /** Ends every process, closes the store, removes the LAN (namespaces, veths, /etc/netns files) and the scratch directory. */
  async stop(): Promise<void> {
    const client = await this.clientPromise?.catch(() => undefined);
    await client?.connection.close().catch(() => undefined);
    await Promise.all(this.orchestrators.map((orchestrator) => orchestrator.stop()));
    await Promise.all(this.allWorkerProcesses.map((worker) => worker.stop()));
    this.s3Store?.close();
    await this.seaweed?.stop();
    await this.temporalServer?.stop();
    this.lan.destroy();
    process.removeListener('exit', this.removeDir);
    this.removeDir();
  }
}
