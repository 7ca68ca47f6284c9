import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchArraysAt, batchCount, batchIndices } from './batching';
import { CIFAR10_NORMALIZATION } from './cifar10-normalization';
import { DataError } from './data-error';
import { SyntheticImageDataset } from './synthetic-dataset';

const dataset = new SyntheticImageDataset('synthetic:cifar?n=100&seed=3&classes=10', {
  size: 100,
  seed: 3,
  numClasses: 10,
});

function epochOrder(epoch: number, batchSize: number, shuffle = true): number[] {
  const order: number[] = [];
  for (let index = 0; index < batchCount(dataset, batchSize); index++) {
    order.push(...batchIndices(dataset, { batchSize, index, epoch, seed: 11, shuffle }));
  }
  return order;
}

test('the last partial batch is kept: 100 samples in batches of 32 make 4 batches', () => {
  assert.equal(batchCount(dataset, 32), 4);
  assert.equal(batchCount(96, 32), 3);
  assert.equal(batchIndices(dataset, { batchSize: 32, index: 3 }).length, 4);
  assert.deepEqual(epochOrder(0, 32, false), Array.from({ length: 100 }, (_, i) => i));
});

test('a shuffled epoch is a permutation, the same for any batch size', () => {
  const order = epochOrder(0, 32);
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(order, Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(epochOrder(0, 7), order);
});

test('the order changes from epoch to epoch and with the seed', () => {
  assert.notDeepEqual(epochOrder(1, 32), epochOrder(0, 32));
  const otherSeed = batchIndices(dataset, { batchSize: 100, index: 0, seed: 12, shuffle: true });
  assert.notDeepEqual(Array.from(otherSeed), epochOrder(0, 100));
});

test('a batch is the same on every call (what lets any worker compute any shard)', () => {
  const options = { batchSize: 16, index: 2, epoch: 5, seed: 9, shuffle: true, augment: true };
  const first = batchArraysAt(dataset, options);
  batchArraysAt(dataset, { ...options, epoch: 6 });
  const sameData = new SyntheticImageDataset('again', { size: 100, seed: 3, numClasses: 10 });
  const second = batchArraysAt(sameData, options);
  assert.deepEqual(second, first);
});

test('batch arrays hold normalised samples, one-hot labels and the dataset indices', () => {
  const batch = batchArraysAt(dataset, { batchSize: 8, index: 1 });
  assert.deepEqual(batch.shape, [8, 32, 32, 3]);
  assert.deepEqual(Array.from(batch.indices), [8, 9, 10, 11, 12, 13, 14, 15]);
  const raw = new Float32Array(3072);
  dataset.writeSample(9, raw, 0);
  const { mean, std } = CIFAR10_NORMALIZATION;
  for (const i of [0, 1, 2, 3000, 3071]) {
    const expected = (raw[i] - mean[i % 3]) / std[i % 3];
    assert.ok(Math.abs(batch.x[3072 + i] - expected) < 1e-5);
  }
  batch.labels.forEach((label, i) => {
    assert.equal(label, dataset.label(batch.indices[i]));
    const row = Array.from(batch.y.subarray(i * 10, i * 10 + 10));
    assert.deepEqual(row, row.map((_, k) => (k === label ? 1 : 0)));
  });
  const unnormalised = batchArraysAt(dataset, { batchSize: 8, index: 1, normalize: false });
  assert.deepEqual(unnormalised.x.subarray(3072, 6144), raw);
});

test('bad batch options are refused naming the option', () => {
  const rejects = (options: Parameters<typeof batchIndices>[1], pattern: RegExp): void => {
    assert.throws(() => batchIndices(dataset, options), (error: unknown) =>
      error instanceof DataError && pattern.test(error.message));
  };
  rejects({ batchSize: 0, index: 0 }, /batchSize must be a positive integer, got 0/);
  rejects({ batchSize: 32, index: 4 }, /batch index 4 is outside 0\.\.3 \(100 samples in batches/);
  rejects({ batchSize: 32, index: 0, epoch: -1 }, /epoch must be a non-negative integer/);
  rejects({ batchSize: 32, index: 0, seed: 1.5 }, /seed must be a non-negative integer/);
});

test('a part of a batch holds exactly those positions of the whole batch', () => {
  const options = { batchSize: 10, index: 3, epoch: 2, seed: 5, shuffle: true, augment: true };
  const whole = batchArraysAt(dataset, options);
  const parts = [{ start: 0, end: 4 }, { start: 4, end: 10 }].map((part) => batchArraysAt(dataset, { ...options, part }));
  assert.deepEqual(parts.map((p) => p.size), [4, 6]);
  assert.deepEqual(Array.from(parts[1].indices), Array.from(whole.indices.subarray(4, 10)));
  assert.deepEqual([...parts[0].x, ...parts[1].x], [...whole.x]);
  assert.deepEqual([...parts[0].y, ...parts[1].y], [...whole.y]);
  assert.equal(batchArraysAt(dataset, { ...options, part: { start: 3, end: 3 } }).size, 0);
  assert.throws(() => batchArraysAt(dataset, { ...options, part: { start: 2, end: 11 } }), /batch part 2\.\.11 is not a range within the batch's 10 samples/);
});
