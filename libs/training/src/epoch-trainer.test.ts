import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { resolveDataset } from '@ippro/data';
import { ADAMW_DEFAULTS, buildSmallCnn, modelDataMismatch } from '@ippro/models';
import { readCheckpoint } from './checkpoint';
import { trainEpochs } from './epoch-trainer';
import type { TrainEvent } from './epoch-trainer';
import { optimizerKindOf } from './train-config';
import type { TrainConfig } from './train-config';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-training-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

before(async () => {
  await tf.setBackend('cpu');
});

const train = resolveDataset('synthetic:cifar?n=24&seed=1&classes=4');
const held = resolveDataset('synthetic:cifar?n=8&seed=2&classes=4');
const config: TrainConfig = {
  epochs: 2,
  batchSize: 8,
  seed: 3,
  augment: true,
  sgd: { learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, labelSmoothing: 0.1 },
  schedule: { kind: 'cosine', warmupEpochs: 0.5 },
  evalBatchSize: 5,
};
const adamw: TrainConfig = {
  ...config,
  sgd: { learningRate: 0.01, weightDecay: 0.05, labelSmoothing: 0.1 },
  optimizer: { kind: 'adamw', ...ADAMW_DEFAULTS },
};
const tiny = (): LayersModel => buildSmallCnn({ stages: [[4], [8]], numClasses: 4, seed: 11 });

function weights(model: LayersModel): number[][] {
  return model.getWeights().map((tensor) => Array.from(tensor.dataSync()));
}

test('an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
  const straightDir = join(scratch, 'straight');
  const straight = tiny();
  const events: TrainEvent[] = [];
  const whole = await trainEpochs({
    model: straight,
    train,
    evaluation: held,
    config,
    checkpointDir: join(straightDir, 'checkpoint'),
    onEvent: (event) => events.push(event),
  });
  assert.equal(whole.complete, true);
  assert.equal(whole.step, 6);
  const steps = events.filter((event) => event.kind === 'step');
  assert.equal(steps.length, 6);
  assert.ok(steps.every((event) => event.imagesPerSecond > 0 && event.accuracy >= 0 && event.accuracy <= 1));
  assert.equal(events.filter((event) => event.kind === 'evaluating').length, 4, '2 epochs x 2 evaluation batches');

  const pausedDir = join(scratch, 'paused');
  const log = join(scratch, 'paused.jsonl');
  const first = await trainEpochs({ model: tiny(), train, evaluation: held, config, checkpointDir: join(pausedDir, 'checkpoint'), logFile: log, stopAfterEpochs: 1 });
  assert.deepEqual([first.epochsDone, first.step, first.complete], [1, 3, false]);
  const checkpoint = await readCheckpoint(join(pausedDir, 'checkpoint'));
  assert.deepEqual(checkpoint.state.rng, { seed: 3, nextEpoch: 1 });
  assert.equal(checkpoint.state.optimizer.iterations, 3);
  assert.equal(checkpoint.optimizer.momentum.length, checkpoint.model.trainableWeights.length);
  const resumed = await trainEpochs({ model: checkpoint.model, train, evaluation: held, config, checkpointDir: join(pausedDir, 'checkpoint'), logFile: log, resume: checkpoint });
  assert.deepEqual([resumed.epochsDone, resumed.step, resumed.complete], [2, 6, true]);
  assert.deepEqual(weights(checkpoint.model), weights(straight), 'bit-identical weights');
  assert.equal(resumed.history[1]?.evalAccuracy, whole.history[1]?.evalAccuracy);
  assert.equal(resumed.history[1]?.trainLoss, whole.history[1]?.trainLoss);

  const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; epoch?: number });
  assert.deepEqual(lines.map((line) => `${line.event}${line.epoch ?? ''}`), ['start', 'epoch1', 'resume1', 'epoch2']);
  const final = await readCheckpoint(join(straightDir, 'checkpoint'));
  assert.deepEqual(weights(final.model), weights(straight), 'the last checkpoint holds the final weights');
});

test('AdamW: a run resumed from its checkpoint (moments and step count) ends bit-identical; the log records the optimizer', async () => {
  const straight = tiny();
  await trainEpochs({ model: straight, train, evaluation: held, config: adamw, checkpointDir: join(scratch, 'adamw-straight', 'checkpoint') });
  const dir = join(scratch, 'adamw-paused', 'checkpoint');
  const log = join(scratch, 'adamw-paused.jsonl');
  await trainEpochs({ model: tiny(), train, evaluation: held, config: adamw, checkpointDir: dir, logFile: log, stopAfterEpochs: 1 });
  const checkpoint = await readCheckpoint(dir);
  assert.equal(checkpoint.state.optimizer.iterations, 3);
  assert.equal(checkpoint.state.optimizer.velocity?.file, 'optimizer-velocity.bin');
  assert.deepEqual(checkpoint.state.config.optimizer, { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  const names = checkpoint.model.trainableWeights.map((weight) => weight.originalName);
  assert.deepEqual(checkpoint.optimizer.momentum.map((entry) => entry.name), names);
  assert.deepEqual(checkpoint.optimizer.velocity?.map((entry) => entry.name), names);
  await trainEpochs({ model: checkpoint.model, train, evaluation: held, config: adamw, checkpointDir: dir, logFile: log, resume: checkpoint });
  assert.deepEqual(weights(checkpoint.model), weights(straight), 'bit-identical weights');
  const moments = (state: Awaited<ReturnType<typeof readCheckpoint>>) => [...state.optimizer.momentum, ...(state.optimizer.velocity ?? [])].map((entry) => Array.from(entry.tensor.dataSync()));
  assert.deepEqual(moments(await readCheckpoint(dir)), moments(await readCheckpoint(join(scratch, 'adamw-straight', 'checkpoint'))), 'bit-identical moments');

  const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; optimizer?: { kind: string; beta2?: number; weightDecay: number } });
  const described = { kind: 'adamw', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05 };
  assert.deepEqual(lines.filter((line) => line.event !== 'epoch').map((line) => [line.event, line.optimizer]), [['start', described], ['resume', described]]);
});

test('a checkpoint of the other optimizer is refused, naming both', async () => {
  const sgdDir = join(scratch, 'sgd-run', 'checkpoint');
  await trainEpochs({ model: tiny(), train, config, checkpointDir: sgdDir, stopAfterEpochs: 1 });
  const sgdCheckpoint = await readCheckpoint(sgdDir);
  assert.equal(sgdCheckpoint.state.optimizer.velocity, undefined, 'an SGD checkpoint has no second moments');
  assert.equal(sgdCheckpoint.state.config.optimizer, undefined, 'nor an optimizer entry: it reads as before AdamW');
  await assert.rejects(trainEpochs({ model: sgdCheckpoint.model, train, config: adamw, resume: sgdCheckpoint }), /the checkpoint was trained with sgd, not adamw/);
  const adamwDir = join(scratch, 'adamw-run', 'checkpoint');
  await trainEpochs({ model: tiny(), train, config: adamw, checkpointDir: adamwDir, stopAfterEpochs: 1 });
  const adamwCheckpoint = await readCheckpoint(adamwDir);
  await assert.rejects(trainEpochs({ model: adamwCheckpoint.model, train, config, resume: adamwCheckpoint }), /the checkpoint was trained with adamw, not sgd/);
});

test('a checkpoint for other data or settings is refused', async () => {
  const dir = join(scratch, 'other', 'checkpoint');
  await trainEpochs({ model: tiny(), train, config: { ...config, epochs: 1 }, checkpointDir: dir });
  const checkpoint = await readCheckpoint(dir);
  const other = resolveDataset('synthetic:cifar?n=16&seed=1&classes=4');
  await assert.rejects(trainEpochs({ model: checkpoint.model, train: other, config: { ...config, epochs: 1 }, resume: checkpoint }), /trained on synthetic:cifar\?n=24&seed=1&classes=4 \(24 samples\)/);
  await assert.rejects(trainEpochs({ model: checkpoint.model, train, config: { ...config, epochs: 3 }, resume: checkpoint }), /other training settings/);
});

test('training does not leak tensors, with SGD or AdamW', async () => {
  for (const run of [config, adamw]) {
    const model = tiny();
    await trainEpochs({ model, train, config: { ...run, epochs: 1 } });
    const before = tf.memory().numTensors;
    await trainEpochs({ model, train, evaluation: held, config: { ...run, epochs: 1 }, checkpointDir: join(scratch, `leak-${optimizerKindOf(run)}`) });
    assert.equal(tf.memory().numTensors, before, optimizerKindOf(run));
  }
});

test('a model that does not fit the data is named', () => {
  assert.equal(modelDataMismatch(tiny(), train), undefined);
  assert.match(modelDataMismatch(buildSmallCnn({ numClasses: 10 }), train) ?? '', /outputs \[10\] values, but synthetic:cifar.* has 4 classes/);
  assert.match(modelDataMismatch(buildSmallCnn({ inputShape: [16, 16, 3], numClasses: 4 }), train) ?? '', /inputs of shape \[16, 16, 3\]/);
});

test('invalid settings are refused before training', async () => {
  await assert.rejects(trainEpochs({ model: tiny(), train, config: { ...config, batchSize: 0 } }), /batchSize must be a positive integer/);
  await assert.rejects(trainEpochs({ model: tiny(), train, config: { ...config, schedule: { kind: 'step', milestones: [3] } } }), /milestone 3 must be an epoch in 1..2/);
  const betas = (beta1: number, beta2: number): TrainConfig => ({ ...adamw, optimizer: { kind: 'adamw', beta1, beta2, epsilon: 1e-8 } });
  await assert.rejects(trainEpochs({ model: tiny(), train, config: betas(1, 0.999) }), /beta1 must be in \[0, 1\), got 1/);
  await assert.rejects(trainEpochs({ model: tiny(), train, config: betas(0.9, -0.5) }), /beta2 must be in \[0, 1\), got -0.5/);
  await assert.rejects(trainEpochs({ model: tiny(), train, config: { ...adamw, sgd: { ...adamw.sgd, momentum: 0.9 } } }), /momentum and nesterov are settings of SGD, not of AdamW/);
});
