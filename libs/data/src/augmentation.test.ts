import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCropFlip, cropFlipFor } from './augmentation';
import { batchArraysAt } from './batching';
import { SyntheticImageDataset } from './synthetic-dataset';

/** A 3x3 single-channel image with distinct values 1..9. */
const image = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);

function augmented(offsetY: number, offsetX: number, flip: boolean): number[] {
  const target = new Float32Array(9);
  applyCropFlip(image, target, 0, [3, 3, 1], { offsetY, offsetX, flip }, 1);
  return Array.from(target);
}

test('the centred crop without flip is the identity', () => {
  assert.deepEqual(augmented(1, 1, false), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('a corner crop shifts the image in and pads with zeros', () => {
  assert.deepEqual(augmented(0, 0, false), [0, 0, 0, 0, 1, 2, 0, 4, 5]);
  assert.deepEqual(augmented(2, 2, false), [5, 6, 0, 8, 9, 0, 0, 0, 0]);
});

test('flip mirrors the crop horizontally', () => {
  assert.deepEqual(augmented(1, 1, true), [3, 2, 1, 6, 5, 4, 9, 8, 7]);
  assert.deepEqual(augmented(0, 0, true), [0, 0, 0, 2, 1, 0, 5, 4, 0]);
});

test('channels move together', () => {
  const rgb = Float32Array.from([1, 10, 100, 2, 20, 200]);
  const target = new Float32Array(6);
  applyCropFlip(rgb, target, 0, [1, 2, 3], { offsetY: 0, offsetX: 0, flip: true }, 0);
  assert.deepEqual(Array.from(target), [2, 20, 200, 1, 10, 100]);
});

test('augmentation parameters are seeded by (seed, epoch, sample) and cover the range', () => {
  assert.deepEqual(cropFlipFor(1, 2, 3), cropFlipFor(1, 2, 3));
  const draws = Array.from({ length: 500 }, (_, i) => cropFlipFor(1, 0, i));
  const offsets = new Set(draws.flatMap((d) => [d.offsetX, d.offsetY]));
  assert.deepEqual([...offsets].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const flips = draws.filter((d) => d.flip).length;
  assert.ok(flips > 200 && flips < 300, `flips ${flips}`);
  const epochs = Array.from({ length: 20 }, (_, e) => cropFlipFor(1, e, 7));
  assert.ok(new Set(epochs.map((d) => JSON.stringify(d))).size > 5);
});

test('a sample is augmented the same whatever the batch size', () => {
  const dataset = new SyntheticImageDataset('synthetic', { size: 40, seed: 5, numClasses: 4 });
  const common = { epoch: 3, seed: 8, shuffle: true, augment: true };
  const small = batchArraysAt(dataset, { ...common, batchSize: 4, index: 0 });
  const large = batchArraysAt(dataset, { ...common, batchSize: 40, index: 0 });
  const sample = small.indices[2];
  assert.equal(large.indices[2], sample);
  assert.deepEqual(small.x.subarray(2 * 3072, 3 * 3072), large.x.subarray(2 * 3072, 3 * 3072));
  const plain = batchArraysAt(dataset, { ...common, augment: false, batchSize: 4, index: 0 });
  assert.notDeepEqual(small.x, plain.x);
});
