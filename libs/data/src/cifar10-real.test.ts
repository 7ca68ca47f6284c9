import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCifar10 } from './cifar10-dataset';
import { Cifar10File } from './cifar10-file';
import { CIFAR10_RECORD_BYTES, CIFAR10_SPLIT_FILES } from './cifar10-format';
import { CIFAR10_NORMALIZATION } from './cifar10-normalization';
import { readSamples } from './read-samples';
import { CIFAR10_ABSENT_REASON, sharedCifar10Dir } from './testing/shared-data';

const dir = sharedCifar10Dir();

function histogram(labels: ArrayLike<number>): number[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

test('train: 50,000 images, 5,000 per class, the first a frog (label 6)', (t) => {
  if (!dir) return t.skip(CIFAR10_ABSENT_REASON);
  const train = openCifar10(dir, 'train');
  assert.equal(train.size, 50_000);
  assert.deepEqual(train.sampleShape, [32, 32, 3]);
  const labels = CIFAR10_SPLIT_FILES.train.flatMap((name) =>
    Array.from(Cifar10File.open(join(dir, name)).labels()),
  );
  assert.deepEqual(histogram(labels), new Array(10).fill(5000));
  // Read straight from the file's first byte, independently of the reader.
  const firstByte = readFileSync(join(dir, 'data_batch_1.bin')).subarray(0, 1)[0];
  assert.equal(firstByte, 6);
  assert.equal(train.label(0), 6);
  assert.equal(train.label(49_999), labels[49_999]);
});

test('test: 10,000 images, 1,000 per class, the first a cat (label 3)', (t) => {
  if (!dir) return t.skip(CIFAR10_ABSENT_REASON);
  const testSplit = openCifar10(dir, 'test');
  assert.equal(testSplit.size, 10_000);
  const { labels } = readSamples(testSplit, 0, 10_000);
  assert.deepEqual(histogram(labels), new Array(10).fill(1000));
  assert.equal(labels[0], 3);
});

test('images match the planar bytes of the file', (t) => {
  if (!dir) return t.skip(CIFAR10_ABSENT_REASON);
  const bytes = readFileSync(join(dir, 'data_batch_2.bin'));
  const record = 1234;
  const { x, shape } = readSamples(openCifar10(dir, 'train'), 10_000 + record, 10_000 + record + 1);
  assert.deepEqual(shape, [1, 32, 32, 3]);
  const at = record * CIFAR10_RECORD_BYTES + 1;
  for (const [y, px, c] of [[0, 0, 0], [5, 9, 1], [31, 30, 2]]) {
    assert.equal(x[(y * 32 + px) * 3 + c], Math.fround(bytes[at + c * 1024 + y * 32 + px] / 255));
  }
});

test('the normalisation constants are the training set per-channel mean and std', (t) => {
  if (!dir) return t.skip(CIFAR10_ABSENT_REASON);
  const sums = [0, 0, 0];
  const squares = [0, 0, 0];
  for (const name of CIFAR10_SPLIT_FILES.train) {
    const bytes = readFileSync(join(dir, name));
    for (let record = 0; record < bytes.length; record += CIFAR10_RECORD_BYTES) {
      for (let c = 0; c < 3; c++) {
        const plane = record + 1 + c * 1024;
        for (let p = plane; p < plane + 1024; p++) {
          sums[c] += bytes[p];
          squares[c] += bytes[p] * bytes[p];
        }
      }
    }
  }
  const count = 50_000 * 1024;
  for (let c = 0; c < 3; c++) {
    const mean = sums[c] / count / 255;
    const std = Math.sqrt(squares[c] / count / 255 ** 2 - mean ** 2);
    assert.ok(Math.abs(mean - CIFAR10_NORMALIZATION.mean[c]) < 1e-4, `mean[${c}] = ${mean}`);
    assert.ok(Math.abs(std - CIFAR10_NORMALIZATION.std[c]) < 1e-4, `std[${c}] = ${std}`);
  }
});
