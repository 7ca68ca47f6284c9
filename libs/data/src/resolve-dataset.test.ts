import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './data-error';
import { readSamples } from './read-samples';
import { resolveDataset } from './resolve-dataset';
import {
  CIFAR10_ABSENT_REASON,
  sharedCifar10Dir,
  sharedDir,
  temporaryDirectory,
} from './testing/shared-data';

const cifar10Dir = sharedCifar10Dir();

test('cifar10 specs resolve in the directory given, with ranges as re-indexed views', (t) => {
  if (!cifar10Dir) return t.skip(CIFAR10_ABSENT_REASON);
  const train = resolveDataset('cifar10:train', { cifar10Dir });
  const head = resolveDataset('cifar10:train[0:5000]', { cifar10Dir });
  assert.equal(head.size, 5000);
  assert.equal(head.description, 'cifar10:train[0:5000]');
  const tail = resolveDataset('cifar10:train[45000:]', { cifar10Dir });
  assert.equal(tail.size, 5000);
  assert.equal(tail.label(0), train.label(45_000));
  assert.deepEqual(readSamples(tail, 4, 5), readSamples(train, 45_004, 45_005));
  assert.equal(resolveDataset('cifar10:test', { cifar10Dir }).size, 10_000);
});

test('IPPRO_DATA_DIR locates CIFAR-10 when no directory is given', (t) => {
  if (!cifar10Dir) return t.skip(CIFAR10_ABSENT_REASON);
  const dataset = resolveDataset('cifar10:test', { env: { IPPRO_DATA_DIR: cifar10Dir } });
  assert.equal(dataset.size, 10_000);
});

function rejects(action: () => unknown, kind: DataError['kind'], ...fragments: string[]): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof DataError, String(error));
    assert.equal(error.kind, kind);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return true;
  });
}

test('a range outside the dataset names the spec and the dataset size', (t) => {
  rejects(() => resolveDataset('synthetic:cifar?n=100[50:101]'), 'out-of-range',
    'synthetic:cifar?n=100&seed=0&classes=10[50:101]', 'has 100 samples');
  const pastEnd = (): unknown => resolveDataset('synthetic:cifar?n=100[100:]');
  rejects(pastEnd, 'out-of-range', 'starts at 100', 'has 100 samples');
  if (!cifar10Dir) return t.skip(CIFAR10_ABSENT_REASON);
  rejects(() => resolveDataset('cifar10:test[9000:10001]', { cifar10Dir }), 'out-of-range',
    'cifar10:test[9000:10001]', 'outside cifar10:test, which has 10000 samples');
});

test('a missing CIFAR-10 directory is a not-found error naming the file and the remedies', () => {
  const empty = temporaryDirectory('empty');
  try {
    rejects(() => resolveDataset('cifar10:train', { cifar10Dir: empty.path }), 'not-found',
      join(empty.path, 'data_batch_1.bin'), 'downloadCifar10()', 'IPPRO_DATA_DIR');
  } finally {
    empty.remove();
  }
});

test('an unknown scheme lists the known ones', () => {
  const known = 'known schemes: cifar10, synthetic, json';
  rejects(() => resolveDataset('mnist:train'), 'invalid-argument', known);
});

test('json: specs resolve relative to cwd, with ranges', (t) => {
  const fixtures = join(sharedDir(), 'fixtures', 'proscore-mlp');
  if (!existsSync(join(fixtures, 'data.json'))) return t.skip(`no fixture in ${fixtures}`);
  const dataset = resolveDataset('json:data.json[8:16]', { cwd: fixtures });
  assert.equal(dataset.size, 8);
  assert.deepEqual(dataset.sampleShape, [6]);
  assert.equal(dataset.numClasses, 3);
});

test('synthetic specs resolve to deterministic datasets', () => {
  const a = resolveDataset('synthetic:cifar?n=64&seed=1&classes=4');
  const b = resolveDataset('synthetic:cifar?n=64&seed=1&classes=4');
  assert.equal(a.size, 64);
  assert.equal(a.numClasses, 4);
  assert.deepEqual(readSamples(a, 0, 8), readSamples(b, 0, 8));
});
