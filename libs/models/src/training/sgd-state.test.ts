import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildMlp } from '../mlp';
import { SgdTrainer } from './sgd-training';
import type { LabeledBatch } from './labeled-batch';

before(async () => {
  await tf.setBackend('cpu');
});

function batch(step: number): LabeledBatch {
  return tf.tidy(() => ({
    x: tf.randomNormal([8, 6], 0, 1, 'float32', 100 + step),
    y: tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3),
  }));
}

const settings = { learningRate: 0.05, nesterov: true, weightDecay: 1e-3 };
const model = () => buildMlp({ inputShape: [6], hiddenUnits: [5], numClasses: 3, seed: 2 });

test('momentum exported and restored into a fresh trainer continues bit for bit', async () => {
  const whole = model();
  const straight = new SgdTrainer(whole, settings);
  for (let step = 0; step < 6; step++) straight.step(batch(step));

  const first = model();
  const before = new SgdTrainer(first, settings);
  for (let step = 0; step < 3; step++) before.step(batch(step));
  const state = await before.exportState();
  assert.equal(state.iterations, 3);
  assert.deepEqual(state.momentum.map((entry) => entry.name), first.trainableWeights.map((w) => w.originalName));

  const second = model(); // another model: other variable names, same layer names
  second.setWeights(first.getWeights());
  const after = new SgdTrainer(second, settings);
  await after.importState(state);
  for (let step = 3; step < 6; step++) after.step(batch(step));
  whole.getWeights().forEach((weight, i) => {
    assert.deepEqual(Array.from(second.getWeights()[i]?.dataSync() ?? []), Array.from(weight.dataSync()));
  });
  const without = model();
  without.setWeights(first.getWeights());
  const fresh = new SgdTrainer(without, settings);
  for (let step = 3; step < 6; step++) fresh.step(batch(step));
  assert.notDeepEqual(Array.from(without.getWeights()[0]?.dataSync() ?? []), Array.from(whole.getWeights()[0]?.dataSync() ?? []));
  tf.dispose(state.momentum.map((entry) => entry.tensor));
});

test('a state for another architecture is refused, naming the weight', async () => {
  const source = new SgdTrainer(model(), settings);
  source.step(batch(0));
  const state = await source.exportState();
  const other = new SgdTrainer(buildMlp({ inputShape: [6], hiddenUnits: [4], numClasses: 3 }), settings);
  await assert.rejects(other.importState(state), /momentum for dense1\/kernel has shape \[6,5\], the weight \[6,4\]/);
});

test('stepWithMetrics counts hits and does not leak tensors', () => {
  const trainer = new SgdTrainer(model(), settings);
  trainer.step(batch(0));
  const before = tf.memory().numTensors;
  const metrics = trainer.stepWithMetrics(batch(1));
  assert.equal(metrics.count, 8);
  assert.ok(metrics.correct >= 0 && metrics.correct <= 8);
  assert.equal(tf.memory().numTensors, before + 2, 'only the batch (x, y) made by batch() remains');
});

test('gradientsWithMetrics then applyGradients is a step, bit for bit', () => {
  const stepped = model();
  const split = model();
  const whole = new SgdTrainer(stepped, settings);
  const halves = new SgdTrainer(split, settings);
  for (let step = 0; step < 3; step++) {
    const input = batch(step);
    const expected = whole.stepWithMetrics(input);
    const { gradients, metrics } = halves.gradientsWithMetrics(input);
    halves.applyGradients(gradients);
    tf.dispose([...gradients, input.x, input.y]);
    assert.deepEqual(metrics, expected);
  }
  stepped.getWeights().forEach((weight, i) => {
    assert.deepEqual(Array.from(split.getWeights()[i]?.dataSync() ?? []), Array.from(weight.dataSync()));
  });
  assert.throws(() => halves.applyGradients([]), /0 gradients for \d+ trainable weights/);
});
