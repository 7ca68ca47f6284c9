import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { timeInputPipeline } from './pipeline-timing';
import { resolveDataset } from './resolve-dataset';

test('times N batches, wrapping into the next epoch', () => {
  const dataset = resolveDataset('synthetic:cifar?n=100&seed=1');
  const options = { batchSize: 32, batches: 6, shuffle: true, augment: true };
  const timing = timeInputPipeline(dataset, options);
  assert.equal(timing.batches, 6);
  // Epoch 0: 32+32+32+4, epoch 1: 32+32.
  assert.equal(timing.samples, 164);
  assert.ok(timing.seconds > 0 && Number.isFinite(timing.samplesPerSecond));
});

test('the tensor variant disposes what it creates', async () => {
  await tf.setBackend('cpu');
  const dataset = resolveDataset('synthetic:cifar?n=40&seed=1');
  const before = tf.memory().numTensors;
  const timing = timeInputPipeline(dataset, { batchSize: 16, batches: 3, tensors: true });
  assert.equal(timing.samples, 40);
  assert.equal(tf.memory().numTensors, before);
});
