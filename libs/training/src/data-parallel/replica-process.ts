/**
 * Entry point of one data-parallel training process (started by ReplicaGroup with an IPC
 * channel). It answers the coordinator's messages in order and exits when told to stop, when
 * the coordinator goes away, or after reporting an error.
 */
import { resolveDataset } from '@ippro/data';
import { SgdTrainer } from '@ippro/models';
import { initRuntime } from '@ippro/runtime';
import { readCheckpoint } from '../checkpoint';
import { trainerSettings } from '../train-config';
import { weightsDigest } from './flat-tensors';
import type { FromReplica, ToReplica } from './messages';
import { Replica } from './replica';

let replica: Replica | undefined;
let digest: (() => string) | undefined;
let queue: Promise<void> = Promise.resolve();
let failed = false;

function send(message: FromReplica): void {
  process.send?.(message);
}

async function start(message: Extract<ToReplica, { kind: 'init' }>): Promise<void> {
  await initRuntime({ backend: message.backend });
  const train = resolveDataset(message.data.spec, message.data.resolve ?? {});
  const { expected } = message;
  if (train.description !== expected.description || train.size !== expected.size) {
    throw new Error(`${message.data.spec} opened as ${train.description} (${train.size} samples), not ${expected.description} (${expected.size})`);
  }
  const checkpoint = await readCheckpoint(message.startDir);
  const { model, state } = checkpoint;
  const trainer = new SgdTrainer(model, trainerSettings(state.config));
  await trainer.importState(checkpoint.optimizer);
  replica = new Replica(model, trainer, train, state.config, message.rank, message.processes);
  digest = () => weightsDigest(model);
  send({ kind: 'ready' });
}

function started(): Replica {
  if (replica === undefined) throw new Error('a step before the start message');
  return replica;
}

async function handle(message: ToReplica): Promise<void> {
  switch (message.kind) {
    case 'init':
      return start(message);
    case 'step':
      return send({ kind: 'gradients', ...started().computePart(message.epoch, message.index) });
    case 'update':
      return started().apply(message);
    case 'digest':
      return send({ kind: 'digest', digest: digest?.() ?? '' });
    case 'state':
      return send({ kind: 'state', ...(await started().state()) });
    case 'stop':
      process.exit(0);
  }
}

function fail(error: unknown): void {
  if (failed) return;
  failed = true;
  const report: FromReplica = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  // Exit once the report is on its way, not before.
  process.send?.(report, undefined, {}, () => process.exit(1));
}

process.on('message', (message: ToReplica) => {
  if (failed) return;
  queue = queue.then(() => handle(message)).catch(fail);
});
// The coordinator is gone (it exited or crashed): nothing is left to train for.
process.on('disconnect', () => process.exit(1));
