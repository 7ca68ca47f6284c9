import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from './data-error';
import { DrawnSamples, drawIndices } from './sample-draw';
import { SyntheticImageDataset } from './synthetic-dataset';

test('a draw is sorted, without repeats, the same for the same seed and another for another seed', () => {
  const drawn = drawIndices(1000, 100, 3);
  assert.equal(drawn.length, 100);
  assert.equal(new Set(drawn).size, 100);
  assert.ok(drawn.every((index, position) => index < 1000 && (position === 0 || index > (drawn[position - 1] ?? 0))));
  assert.deepEqual(drawIndices(1000, 100, 3), drawn);
  assert.notDeepEqual(drawIndices(1000, 100, 4), drawn);
});

test('drawing every sample gives the dataset in its own order', () => {
  assert.deepEqual(Array.from(drawIndices(7, 7, 11)), [0, 1, 2, 3, 4, 5, 6]);
});

test('drawn samples are the base samples at the drawn indices, with their labels', () => {
  const base = new SyntheticImageDataset('synthetic', { size: 40, seed: 2, numClasses: 4 });
  const drawn = new DrawnSamples(base, 10, 5);
  const indices = drawIndices(40, 10, 5);
  assert.equal(drawn.size, 10);
  assert.match(drawn.description, /\{10 drawn by seed 5\}$/);
  const length = 32 * 32 * 3;
  const ours = new Float32Array(length);
  const theirs = new Float32Array(length);
  for (let index = 0; index < 10; index++) {
    drawn.writeSample(index, ours, 0);
    base.writeSample(indices[index] ?? -1, theirs, 0);
    assert.deepEqual(ours, theirs);
    assert.equal(drawn.label(index), base.label(indices[index] ?? -1));
  }
});

test('a draw larger than the data, or of nothing, is refused naming both sizes', () => {
  assert.throws(() => drawIndices(10, 11, 0), (error: Error) => error instanceof DataError && /cannot draw 11 samples from 10/.test(error.message));
  assert.throws(() => drawIndices(10, 0, 0), /cannot draw 0 samples from 10/);
});
