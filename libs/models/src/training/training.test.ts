import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { SgdTrainer } from './sgd-training';
import { evaluateBatches, mergeEvaluations, accuracyOf } from './evaluate';
import { classificationLoss } from '../loss';
import type { LabeledBatch } from './labeled-batch';

before(async () => {
  await tf.setBackend('cpu');
});

function tinyClassifier(seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ inputShape: [2], units: 8, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }));
  model.add(tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

/** Two well-separated clusters: class = sign of the first coordinate. */
function separableBatch(): LabeledBatch {
  const points = [[2, 1], [1.5, -1], [3, 0.5], [-2, 1], [-1.5, -0.5], [-3, 0]];
  const labels = points.map(([first]) => ((first ?? 0) > 0 ? 0 : 1));
  return { x: tf.tensor2d(points), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 2) };
}

test('SGD lowers the loss and the trained model separates the classes', () => {
  const model = tinyClassifier(1);
  const batch = separableBatch();
  const trainer = new SgdTrainer(model, { learningRate: 0.1 });
  const first = trainer.step(batch);
  let last = first;
  for (let step = 0; step < 60; step += 1) last = trainer.step(batch);
  assert.ok(last < first / 4, `loss went from ${first} to ${last}`);
  assert.equal(accuracyOf(evaluateBatches(model, [batch])), 1);
  trainer.dispose();
});

test('training is deterministic for the same seed and data', () => {
  const run = (): number[] => {
    const model = tinyClassifier(7);
    const trainer = new SgdTrainer(model, { learningRate: 0.05, nesterov: true, weightDecay: 1e-3 });
    for (let step = 0; step < 5; step += 1) trainer.step(separableBatch());
    return Array.from(model.getWeights()[0]?.dataSync() ?? []);
  };
  assert.deepEqual(run(), run());
});

test('weight decay shrinks kernels that the data does not move', () => {
  const model = tinyClassifier(3);
  const zeros: LabeledBatch = { x: tf.zeros([4, 2]), y: tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2) };
  const norm = (): number => tf.norm(model.getWeights()[0] as tf.Tensor).dataSync()[0] ?? 0;
  const before = norm();
  const trainer = new SgdTrainer(model, { learningRate: 0.1, momentum: 0, weightDecay: 0.5 });
  trainer.step(zeros);
  assert.ok(Math.abs(norm() - before * 0.95) < 1e-4, `expected the kernel scaled by 1 - lr*wd`);
});

test('evaluation sums merge exactly across shards', () => {
  const model = tinyClassifier(5);
  const batch = separableBatch();
  const whole = evaluateBatches(model, [batch]);
  const halves = [0, 3].map((start) => ({ x: tf.slice(batch.x, start, 3), y: tf.slice(batch.y, start, 3) }));
  const merged = mergeEvaluations(halves.map((half) => evaluateBatches(model, [half])));
  assert.equal(merged.correct, whole.correct);
  assert.equal(merged.count, 6);
  assert.ok(Math.abs(merged.lossSum - whole.lossSum) < 1e-5);
  const meanLoss = classificationLoss(model.predict(batch.x) as tf.Tensor, batch.y).dataSync()[0] ?? 0;
  assert.ok(Math.abs(whole.lossSum / whole.count - meanLoss) < 1e-6);
});

test('label smoothing raises the loss of a confident correct prediction', () => {
  const probabilities = tf.tensor2d([[0.99, 0.01]]);
  const targets = tf.tensor2d([[1, 0]]);
  const plain = classificationLoss(probabilities, targets).dataSync()[0] ?? 0;
  const smoothed = classificationLoss(probabilities, targets, { labelSmoothing: 0.2 }).dataSync()[0] ?? 0;
  assert.ok(smoothed > plain);
});
