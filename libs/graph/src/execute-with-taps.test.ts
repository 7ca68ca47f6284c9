import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildResNetCifar } from '@ippro/models';
import { applyWithTaps, LayerTap } from './execute-with-taps';
import { loadLayersModelFromDir } from './model-io';
import { proscoreFixtureDir } from './testing/fixture-location';

test.before(async () => {
  await tf.setBackend('cpu');
});

interface FixtureData {
  inputs: number[][];
  labels: number[];
}

function fixtureData(): FixtureData {
  return JSON.parse(fs.readFileSync(path.join(proscoreFixtureDir(), 'data.json'), 'utf8'));
}

function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const NO_TAPS = new Map<string, LayerTap>();

test('without taps it equals model.predict on the fixture and the oracle probabilities', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const x = tf.tensor2d(fixtureData().inputs);
  const direct = model.predict(x) as tf.Tensor;
  const stepped = applyWithTaps(model, x, NO_TAPS) as tf.Tensor;
  assert.ok(maxAbsDifference(direct, stepped) < 1e-6);
  const expected = JSON.parse(fs.readFileSync(path.join(proscoreFixtureDir(), 'expected.json'), 'utf8')).probs as number[];
  const expectedTensor = tf.tensor2d(expected, [expected.length / 3, 3]);
  assert.ok(maxAbsDifference(stepped, expectedTensor) < 1e-5);
  tf.dispose([x, direct, stepped, expectedTensor]);
  model.dispose();
});

test('without taps it equals model.predict on ResNet-20', () => {
  const model = buildResNetCifar({ depth: 20, seed: 3 });
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 11);
  const direct = model.predict(x) as tf.Tensor;
  const stepped = applyWithTaps(model, x, NO_TAPS) as tf.Tensor;
  assert.ok(maxAbsDifference(direct, stepped) < 1e-6);
  tf.dispose([x, direct, stepped]);
  model.dispose();
});

test('a scale tap is differentiable: dL/dscale_c = sum over samples of dL/dy_c * y_c', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const data = fixtureData();
  const x = tf.tensor2d(data.inputs.slice(0, 8));
  const labels = tf.oneHot(tf.tensor1d(data.labels.slice(0, 8), 'int32'), 3);
  const loss = (probs: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, tf.log(probs));
  const scale = tf.ones([5]);
  const [gradScale] = tf.grads((s: tf.Tensor) => loss(applyWithTaps(model, x, new Map([['bn1', (y: tf.Tensor) => tf.mul(y, s)]])) as tf.Tensor))([scale]);
  // Analytic check: with y the tapped output, dL/ds_c = sum_n dL/dy_nc * y_nc.
  const seen: tf.Tensor[] = [];
  const capture = new Map([['bn1', (y: tf.Tensor) => { seen.push(tf.keep(y)); return y; }]]);
  tf.dispose(applyWithTaps(model, x, capture));
  const y = seen[0];
  const dLdy = tf.grad((yIn: tf.Tensor) => loss(applyWithTaps(model, x, new Map([['bn1', () => yIn]])) as tf.Tensor))(y);
  const expected = tf.sum(tf.mul(dLdy, y), 0);
  assert.ok(maxAbsDifference(gradScale, expected) < 1e-6);
  assert.ok(tf.tidy(() => tf.max(tf.abs(gradScale)).dataSync()[0]) > 1e-4, 'gradient is not trivially zero');
  // Finite difference on one channel.
  const epsilon = 1e-2;
  const lossAt = (delta: number) =>
    tf.tidy(() => {
      const s = tf.add(tf.ones([5]), tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([1], 'int32'), 5), [5]), delta));
      return loss(applyWithTaps(model, x, new Map([['bn1', (yy: tf.Tensor) => tf.mul(yy, s)]])) as tf.Tensor).dataSync()[0];
    });
  const numeric = (lossAt(epsilon) - lossAt(-epsilon)) / (2 * epsilon);
  assert.ok(Math.abs(numeric - gradScale.dataSync()[1]) < 1e-3, `${numeric} vs ${gradScale.dataSync()[1]}`);
  tf.dispose([x, labels, scale, gradScale, y, dLdy, expected]);
  model.dispose();
});

test('taps on several layers of a multi-input, multi-output model', () => {
  const a = tfl.input({ shape: [2], name: 'a' });
  const b = tfl.input({ shape: [2], name: 'b' });
  const sum = tfl.layers.add({ name: 'sum' }).apply([a, b]) as tfl.SymbolicTensor;
  const doubled = tfl.layers.dense({ units: 2, useBias: false, kernelInitializer: 'identity', name: 'copy' }).apply(sum) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [a, b], outputs: [doubled, sum] });
  const xa = tf.tensor2d([[1, 2]]);
  const xb = tf.tensor2d([[10, 20]]);
  const taps = new Map<string, LayerTap>([
    ['a', (y) => tf.mul(y, 2)],
    ['sum', (y) => tf.add(y, 1)],
  ]);
  const [copy, summed] = applyWithTaps(model, [xa, xb], taps) as tf.Tensor[];
  assert.deepEqual(Array.from(summed.dataSync()), [13, 25]);
  assert.deepEqual(Array.from(copy.dataSync()), [13, 25]);
  tf.dispose([xa, xb, copy, summed]);
  model.dispose();
});

test('bad taps and inputs are errors naming the layer or model', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const x = tf.ones([2, 6]);
  assert.throws(() => applyWithTaps(model, x, new Map([['nope', (y: tf.Tensor) => y]])), /Tap names layer "nope"/);
  assert.throws(
    () => applyWithTaps(model, x, new Map([['bn1', (y: tf.Tensor) => tf.sum(y, 1)]])),
    /Tap on layer "bn1" changed its output shape from \[2,5\] to \[2\]/,
  );
  assert.throws(() => applyWithTaps(model, [x, x], NO_TAPS), /Model "proscore_fixture" takes 1 input\(s\), got 2/);
  x.dispose();
  model.dispose();
});

test('training mode reaches BatchNormalization; intermediate tensors are released', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const x = tf.tensor2d(fixtureData().inputs);
  const before = tf.memory().numTensors;
  const inference = applyWithTaps(model, x, NO_TAPS) as tf.Tensor;
  assert.equal(tf.memory().numTensors, before + 1);
  const training = applyWithTaps(model, x, NO_TAPS, { training: true }) as tf.Tensor;
  assert.ok(maxAbsDifference(inference, training) > 1e-4);
  tf.dispose([x, inference, training]);
  model.dispose();
});
