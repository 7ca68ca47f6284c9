import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from './data-error';
import { readSamples } from './read-samples';
import { resolveDataset } from './resolve-dataset';
import { SyntheticImageDataset } from './synthetic-dataset';
import { trainValIndices } from './train-val-split';

const data = new SyntheticImageDataset('synthetic', { size: 200, seed: 4, numClasses: 5 });

function classCounts(indices: Uint32Array): number[] {
  const counts = new Array(5).fill(0) as number[];
  for (const index of indices) counts[data.label(index)] = (counts[data.label(index)] as number) + 1;
  return counts;
}

test('a split is deterministic, stratified by class, and its two parts partition the data', () => {
  const val = trainValIndices(data, { part: 'val', fraction: 0.2, seed: 1 });
  const train = trainValIndices(data, { part: 'train', fraction: 0.2, seed: 1 });
  assert.deepEqual(val, trainValIndices(data, { part: 'val', fraction: 0.2, seed: 1 }));
  assert.equal(val.length + train.length, 200);
  assert.equal(new Set([...val, ...train]).size, 200);
  assert.deepEqual([...val], [...val].sort((a, b) => a - b), 'each part in dataset order');
  const all = classCounts(Uint32Array.from({ length: 200 }, (_, i) => i));
  classCounts(val).forEach((count, label) => assert.equal(count, Math.round(0.2 * (all[label] as number)), `class ${label}`));
  assert.notDeepEqual(val, trainValIndices(data, { part: 'val', fraction: 0.2, seed: 2 }), 'another seed, another split');
});

test('a split spec resolves to the part, re-indexed, and takes a sample range of it', () => {
  const val = resolveDataset('synthetic:cifar?n=200&seed=4&classes=5&split=val&val=0.2&split-seed=1');
  const indices = trainValIndices(data, { part: 'val', fraction: 0.2, seed: 1 });
  assert.equal(val.size, indices.length);
  assert.equal(val.label(3), data.label(indices[3] as number));
  assert.deepEqual(readSamples(val, 3, 4).x, readSamples(data, indices[3] as number, (indices[3] as number) + 1).x);
  const head = resolveDataset('synthetic:cifar?n=200&seed=4&classes=5&split=val&val=0.2&split-seed=1[0:5]');
  assert.equal(head.size, 5);
  assert.equal(head.label(4), val.label(4));
  assert.throws(() => resolveDataset('synthetic:cifar?n=3&classes=2&split=val&val=0.1'), (error: unknown) => error instanceof DataError && /leaves no samples/.test(error.message));
});

test('a normalization in the spec replaces the data\'s own; none removes it', () => {
  assert.deepEqual(resolveDataset('synthetic:cifar?n=8').normalization, data.normalization);
  assert.deepEqual(resolveDataset('synthetic:cifar?n=8&normalize=mean=0.5,std=0.25').normalization, { mean: [0.5], std: [0.25] });
  assert.equal(resolveDataset('synthetic:cifar?n=8&normalize=none').normalization, undefined);
  assert.throws(() => resolveDataset('synthetic:cifar?n=8&normalize=mean=0.5,0.5,std=0.2,0.2'), /the normalization has 2 values per statistic, but the samples have 3 channels/);
});
