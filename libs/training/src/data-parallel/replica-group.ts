import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { disposeOptimizerState } from '@ippro/models';
import type { SgdTrainer } from '@ippro/models';
import { intraOpThreadsPerProcess } from '@ippro/runtime';
import type { BackendName } from '@ippro/runtime';
import { writeCheckpoint } from '../checkpoint';
import type { CheckpointState } from '../checkpoint';
import { weightsDigest } from './flat-tensors';
import type { FromReplica, TrainDataSource, ToReplica } from './messages';
import { adoptState } from './replica';
import { weightedAverage } from './weighted-average';

/** A step's merged result: the whole batch's mean loss and hits. */
export interface GroupStepResult {
  loss: number;
  correct: number;
  count: number;
  /** The slowest replica's time producing its input for this step. */
  inputMilliseconds: number;
}

export interface ReplicaGroupOptions {
  processes: number;
  backend: BackendName;
  data: TrainDataSource;
  expected: { description: string; size: number };
  /** This process's model and trainer: the replicas start from them, and they take over the replicas' state in synchronize(). */
  model: LayersModel;
  trainer: SgdTrainer;
  /** What a checkpoint of the starting point records (config, data, progress). */
  state: Omit<CheckpointState, 'format' | 'version' | 'optimizer'>;
}

const REPLICA_SCRIPT = join(__dirname, 'replica-process.js');
const STOP_GRACE_MS = 5000;
/** How long a failed write waits for the process's exit, which says why it failed (a signal, an exit code). */
const EXIT_GRACE_MS = 1000;

/**
 * Data-parallel training over child processes. Every batch is split into one part per process
 * (batchPartOf); each computes its part's gradients; this process averages them, weighted by
 * part size and in rank order, and every child takes the same optimizer step (SGD or AdamW)
 * with the same averaged gradients from the same optimizer state, so all copies stay identical
 * bit for bit. Batch-norm layers normalise with their own part's statistics; their moving statistics are averaged the same way. This process's model
 * and optimizer take over the children's state when they are needed (after each epoch), not
 * every step. A child that fails or exits ends the run with an error naming it.
 */
export class ReplicaGroup {
  private constructor(
    private readonly replicas: readonly ReplicaProcess[],
    private readonly model: LayersModel,
    private readonly trainer: SgdTrainer,
  ) {}

  static async start(options: ReplicaGroupOptions): Promise<ReplicaGroup> {
    const scratch = await mkdtemp(join(tmpdir(), 'ippro-replicas-'));
    const replicas: ReplicaProcess[] = [];
    try {
      const startDir = join(scratch, 'start');
      const optimizer = await options.trainer.exportState();
      try {
        await writeCheckpoint(startDir, options.model, optimizer, options.state);
      } finally {
        disposeOptimizerState(optimizer);
      }
      for (let rank = 0; rank < options.processes; rank++) {
        const replica = new ReplicaProcess(rank, options.processes);
        replicas.push(replica);
        replica.send({
          kind: 'init',
          rank,
          processes: options.processes,
          backend: options.backend,
          data: options.data,
          expected: options.expected,
          startDir,
        });
      }
      await Promise.all(replicas.map((replica) => replica.receive('ready')));
      return new ReplicaGroup(replicas, options.model, options.trainer);
    } catch (error) {
      await Promise.all(replicas.map((replica) => replica.stop()));
      throw error;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** One optimizer step on batch `index` of `epoch`, every process taking its part. */
  async step(epoch: number, index: number, learningRate: number): Promise<GroupStepResult> {
    for (const replica of this.replicas) replica.send({ kind: 'step', epoch, index });
    const parts = await Promise.all(this.replicas.map((replica) => replica.receive('gradients')));
    const count = parts.reduce((sum, part) => sum + part.count, 0);
    const loss = parts.reduce((sum, part) => sum + part.loss * part.count, 0) / count;
    if (!Number.isFinite(loss)) throw new Error(`training diverged: the loss became ${loss}`);
    const update = {
      learningRate,
      gradients: weightedAverage(parts.map((part) => ({ weight: part.count, values: part.gradients }))),
      statistics: weightedAverage(parts.map((part) => ({ weight: part.count, values: part.statistics }))),
    };
    for (const replica of this.replicas) replica.send({ kind: 'update', ...update });
    return {
      loss,
      correct: parts.reduce((sum, part) => sum + part.correct, 0),
      count,
      inputMilliseconds: Math.max(...parts.map((part) => part.inputMilliseconds)),
    };
  }

  /**
   * Checks that every child holds the same weights, then gives this process's model and trainer
   * their state. Call it before using the model (evaluation, checkpoints).
   */
  async synchronize(): Promise<void> {
    for (const replica of this.replicas) replica.send({ kind: 'digest' });
    const digests = await Promise.all(this.replicas.map((replica) => replica.receive('digest')));
    const differing = digests.findIndex((answer) => answer.digest !== digests[0]?.digest);
    if (differing >= 0) {
      throw new Error(`training process ${differing + 1} of ${this.replicas.length} holds other weights than process 1: the copies diverged`);
    }
    const first = this.replicas[0] as ReplicaProcess;
    first.send({ kind: 'state' });
    await adoptState(this.model, this.trainer, await first.receive('state'));
    if (weightsDigest(this.model) !== digests[0]?.digest) throw new Error('the weights taken over from training process 1 differ from its own');
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop()));
  }
}

type Answer<K extends FromReplica['kind']> = Extract<FromReplica, { kind: K }>;

/** One child process and its ordered message stream; any failure rejects every wait on it. */
class ReplicaProcess {
  private readonly child: ChildProcess;
  private readonly inbox: FromReplica[] = [];
  private readonly waiting: { resolve: (message: FromReplica) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;
  private stopping = false;
  private readonly exited: Promise<void>;

  constructor(
    private readonly rank: number,
    private readonly processes: number,
  ) {
    this.child = fork(REPLICA_SCRIPT, [], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // The processes, not TensorFlow's thread pools, share the cores (one thread each on 2 cores);
      // this process's own TF_NUM_INTRAOP_THREADS is the count it fixed for itself (every core).
      env: {
        ...process.env,
        TF_NUM_INTRAOP_THREADS: String(intraOpThreadsPerProcess(processes)),
        TF_NUM_INTEROP_THREADS: process.env['TF_NUM_INTEROP_THREADS'] ?? '1',
      },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (message: FromReplica) => this.deliver(message));
    this.child.on('error', (error) => this.fail(`could not be run: ${error.message}`));
    this.child.on('exit', (code, signal) => {
      if (!this.stopping) this.fail(`exited unexpectedly (${signal === null ? `exit code ${code}` : `signal ${signal}`})`);
    });
  }

  private get name(): string {
    return `training process ${this.rank + 1} of ${this.processes} (pid ${this.child.pid ?? '?'})`;
  }

  send(message: ToReplica): void {
    if (this.failure !== undefined) return;
    this.child.send(message, (error) => {
      if (!error) return;
      // A write to a dying process fails just before its exit is seen; the exit names the cause.
      const timer = setTimeout(() => this.fail(`cannot be reached: ${error.message}`), EXIT_GRACE_MS);
      void this.exited.then(() => clearTimeout(timer));
    });
  }

  async receive<K extends FromReplica['kind']>(kind: K): Promise<Answer<K>> {
    const message = await new Promise<FromReplica>((resolve, reject) => {
      const next = this.inbox.shift();
      if (next !== undefined) resolve(next);
      else if (this.failure !== undefined) reject(this.failure);
      else this.waiting.push({ resolve, reject });
    });
    if (message.kind !== kind) throw new Error(`${this.name} answered '${message.kind}' where '${kind}' was due`);
    return message as Answer<K>;
  }

  /** Asks the process to exit; one that does not within a grace period is killed. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      if (this.child.connected) this.child.send({ kind: 'stop' } satisfies ToReplica, () => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private deliver(message: FromReplica): void {
    if (message.kind === 'error') return this.fail(`failed: ${message.message}`);
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(message);
    else this.inbox.push(message);
  }

  private fail(what: string): void {
    if (this.failure !== undefined) return;
    this.failure = new Error(`${this.name} ${what}`);
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
