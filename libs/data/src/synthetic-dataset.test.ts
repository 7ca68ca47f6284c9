import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSamples } from './read-samples';
import { SyntheticImageDataset } from './synthetic-dataset';

const options = { size: 400, seed: 1, numClasses: 10 };

test('samples and labels are determined by (seed, index)', () => {
  const first = readSamples(new SyntheticImageDataset('a', options), 100, 110);
  const again = readSamples(new SyntheticImageDataset('b', options), 100, 110);
  assert.deepEqual(again, first);
  const otherSeed = readSamples(new SyntheticImageDataset('c', { ...options, seed: 2 }), 100, 110);
  assert.notDeepEqual(otherSeed.x, first.x);
});

test('images are 32x32x3 in 0..1 and every class occurs', () => {
  const dataset = new SyntheticImageDataset('d', options);
  const { x, labels } = readSamples(dataset);
  assert.deepEqual(dataset.sampleShape, [32, 32, 3]);
  assert.ok(x.every((v) => v >= 0 && v <= 1));
  assert.equal(new Set(labels).size, 10);
});

test('classes are learnable: the nearest class-mean colour recovers the label', () => {
  const dataset = new SyntheticImageDataset('e', options);
  const { x, labels } = readSamples(dataset);
  const meanColour = (i: number): number[] => {
    const sums = [0, 0, 0];
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) sums[c] += x[i * 3072 + p * 3 + c];
    return sums.map((s) => s / 1024);
  };
  const colours = Array.from({ length: dataset.size }, (_, i) => meanColour(i));
  const centroids = Array.from({ length: 10 }, (_, k) => {
    const members = colours.filter((_, i) => labels[i] === k);
    return [0, 1, 2].map((c) => members.reduce((s, m) => s + m[c], 0) / members.length);
  });
  const distance = (a: number[], b: number[]): number =>
    a.reduce((sum, v, c) => sum + (v - b[c]) ** 2, 0);
  const correct = colours.filter((colour, i) => {
    const nearest = centroids.reduce((best, centroid, k) =>
      distance(colour, centroid) < distance(colour, centroids[best]) ? k : best, 0);
    return nearest === labels[i];
  }).length;
  assert.ok(correct / dataset.size > 0.95, `accuracy ${correct / dataset.size}`);
});
