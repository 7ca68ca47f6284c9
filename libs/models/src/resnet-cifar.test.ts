import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildResNetCifar } from './resnet-cifar';
import { countMultiplyAccumulates } from './multiply-accumulate-count';

// 270,256 conv weights + 784 batch-norm channels x 4 + 64x10 dense + 10 bias.
const RESNET20_PARAMS = 274_042;
const RESNET20_TRAINABLE_PARAMS = 272_474;

test.before(async () => {
  await tf.setBackend('cpu');
});

test('ResNet-20 has the parameter count of the paper architecture (~0.27M)', () => {
  const model = buildResNetCifar({ depth: 20 });
  assert.equal(model.countParams(), RESNET20_PARAMS);
  const trainable = model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
  assert.equal(trainable, RESNET20_TRAINABLE_PARAMS);
  model.dispose();
});

test('ResNet-20 maps a batch of images to class probabilities', () => {
  const model = buildResNetCifar({ depth: 20, numClasses: 10 });
  const probabilities = tf.tidy(() => model.predict(tf.zeros([2, 32, 32, 3])) as tf.Tensor);
  assert.deepEqual(probabilities.shape, [2, 10]);
  const rowSums = tf.tidy(() => tf.sum(probabilities, 1).arraySync() as number[]);
  rowSums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5));
  probabilities.dispose();
  model.dispose();
});

test('layer names are unique and readable', () => {
  const model = buildResNetCifar({ depth: 20 });
  const names = model.layers.map((l) => l.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('stage2_block1_shortcut_conv'));
  assert.ok(names.includes('classifier'));
  model.dispose();
});

function weightValues(seed: number): Float32Array[] {
  const model = buildResNetCifar({ depth: 20, seed });
  const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return values;
}

test('initial weights are determined by the seed', () => {
  const first = weightValues(7);
  assert.deepEqual(weightValues(7), first);
  const other = weightValues(8);
  assert.notDeepEqual(other[0], first[0]);
});

test('depth 32 and 56 add blocks; other depths are rejected', () => {
  const convCount = (depth: 20 | 32 | 56): number =>
    buildResNetCifar({ depth }).layers.filter((l) => l.getClassName() === 'Conv2D').length;
  assert.equal(convCount(20), 19 + 2);
  assert.equal(convCount(32), 31 + 2);
  assert.equal(convCount(56), 55 + 2);
  assert.throws(() => buildResNetCifar({ depth: 21 as 20 }));
});

test('ResNet-20 costs about 41 million multiply-accumulates per image', () => {
  const macs = countMultiplyAccumulates(buildResNetCifar({ depth: 20 }));
  assert.ok(macs > 40e6 && macs < 42e6, `got ${macs}`);
});
