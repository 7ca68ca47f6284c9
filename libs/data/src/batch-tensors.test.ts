import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { batchArraysAt } from './batching';
import { batchAt } from './batch-tensors';
import { resolveDataset } from './resolve-dataset';

test.before(async () => {
  await tf.setBackend('cpu');
});

test('batchAt gives x [n,32,32,3] and one-hot y [n,10] float32, equal to the array variant', () => {
  const dataset = resolveDataset('synthetic:cifar?n=50&seed=2&classes=10');
  const options = { batchSize: 16, index: 3, epoch: 1, seed: 4, shuffle: true, augment: true };
  const before = tf.memory().numTensors;
  const batch = batchAt(dataset, options);
  assert.deepEqual(batch.x.shape, [2, 32, 32, 3]);
  assert.deepEqual(batch.y.shape, [2, 10]);
  assert.equal(batch.x.dtype, 'float32');
  assert.equal(batch.y.dtype, 'float32');
  const arrays = batchArraysAt(dataset, options);
  assert.deepEqual(batch.x.dataSync(), arrays.x);
  assert.deepEqual(batch.y.dataSync(), arrays.y);
  assert.deepEqual(batch.labels, arrays.labels);
  batch.dispose();
  assert.equal(tf.memory().numTensors, before);
});
