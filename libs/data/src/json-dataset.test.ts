import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './data-error';
import { JsonDataset } from './json-dataset';
import type { LabeledDataset } from './labeled-dataset';
import { sharedDir, temporaryDirectory } from './testing/shared-data';

const dir = temporaryDirectory('json');
test.after(() => dir.remove());

const fixture = join(sharedDir(), 'fixtures', 'proscore-mlp', 'data.json');

test('the proscore-mlp fixture: 32 samples of 6 features, 3 classes, batch size 8', (t) => {
  let expected: { inputs: number[][]; labels: number[]; batchSize: number };
  try {
    expected = JSON.parse(readFileSync(fixture, 'utf8'));
  } catch {
    return t.skip(`fixture ${fixture} not found`);
  }
  const dataset = JsonDataset.read(fixture);
  assert.equal(dataset.size, 32);
  assert.deepEqual(dataset.sampleShape, [6]);
  assert.equal(dataset.numClasses, 3);
  assert.equal(dataset.batchSize, 8);
  assert.equal((dataset as LabeledDataset).normalization, undefined);
  const sample = new Float32Array(6);
  dataset.writeSample(5, sample, 0);
  assert.deepEqual(Array.from(sample), expected.inputs[5].map(Math.fround));
  assert.equal(dataset.label(31), expected.labels[31]);
});

function writeJson(name: string, value: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

test('nested samples are flattened row-major; scalar samples are one feature', () => {
  const inputs = [
    [[1, 2], [3, 4]],
    [[5, 6], [7, 8]],
  ];
  const nested = JsonDataset.read(writeJson('nested.json', { inputs, labels: [1, 0] }));
  assert.deepEqual(nested.sampleShape, [2, 2]);
  const sample = new Float32Array(4);
  nested.writeSample(1, sample, 0);
  assert.deepEqual(Array.from(sample), [5, 6, 7, 8]);
  const scalarsPath = writeJson('scalars.json', { inputs: [0.5, 1.5], labels: [0, 1] });
  const scalars = JsonDataset.read(scalarsPath);
  assert.deepEqual(scalars.sampleShape, [1]);
});

function rejects(name: string, content: unknown, pattern: RegExp): void {
  const path = writeJson(name, content);
  assert.throws(() => JsonDataset.read(path), (error: unknown) => {
    assert.ok(error instanceof DataError);
    assert.equal(error.kind, 'invalid-argument');
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

test('malformed files are refused naming the file and the field', () => {
  rejects('not-json.json', '{inputs', /not valid JSON/);
  rejects('array.json', [1, 2], /must be an object/);
  rejects('no-inputs.json', { labels: [0] }, /"inputs" must be a non-empty array/);
  const two = [[1], [2]];
  rejects('count.json', { inputs: two, labels: [0] }, /"labels" has 1 entries but "inputs" has 2/);
  rejects('label.json', { inputs: two, labels: [0, 1.5] }, /labels\[1\] must be a non-negative/);
  rejects('shape.json', { inputs: [[1, 2], [3]], labels: [0, 1] }, /inputs\[1\] does not have/);
  rejects('value.json', { inputs: [[1, 'x']], labels: [0] }, /inputs\[0\]\[1\] must be a finite/);
  const zeroBatch = { inputs: [[1]], labels: [0], batchSize: 0 };
  rejects('batch.json', zeroBatch, /"batchSize" must be a positive integer/);
  const missing = join(dir.path, 'missing.json');
  assert.throws(() => JsonDataset.read(missing), (error: unknown) =>
    error instanceof DataError && error.kind === 'not-found' && error.message.includes(missing));
});
