import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs' stock gradients, the reference here.
import '@tensorflow/tfjs-layers';

import { BackendName, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { nativeStatus } from '../../testing/native';
import { ReluGrad } from '../kernels/relu-grad';
import { reluGradientConfig } from './relu-gradient';

// Captured before nativeStatus() registers the native gradients.
const stockGradient = tf.getGradient(tf.Relu);
const native = nativeStatus();
const skip = native.available ? false : native.reason;

before(() => useBackends());

interface Run {
  gradient: Float32Array;
  kernels: string[];
}

const shape = [7, 5, 3, 4];

function inputs(): { x: Float32Array; weights: Float32Array } {
  const random = seededRandom(5);
  // Exact zeros: ReLU's gradient is 0 there in tfjs (step(0) = 0) and in ReluGrad.
  return { x: randomValues(shape, random).map((v) => (Math.abs(v) < 0.2 ? 0 : v)), weights: randomValues(shape, random) };
}

async function reluGradientOn(backend: BackendName, config: tf.GradConfig): Promise<Run> {
  if (stockGradient === undefined) throw new Error('no stock Relu gradient');
  tf.registerGradient(config);
  const { x, weights } = inputs();
  return onBackend(backend, async () => {
    let gradient = new Float32Array();
    const profile = await tf.profile(() => {
      gradient = tf.tidy(() => {
        const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.relu(input), tf.tensor(weights, shape))));
        return Float32Array.from(grad(tf.tensor(x, shape)).dataSync());
      });
    });
    return { gradient, kernels: profile.kernelNames };
  });
}

test('Relu gradient runs ReluGrad on the native backend and equals the stock gradient on cpu', { skip }, async () => {
  if (stockGradient === undefined) throw new Error('no stock Relu gradient');
  const expected = await reluGradientOn('cpu', stockGradient);
  const actual = await reluGradientOn('tensorflow', reluGradientConfig);
  assert.ok(actual.kernels.includes(ReluGrad));
  assert.ok(!actual.kernels.includes('Step'));
  assert.deepEqual(actual.gradient, expected.gradient);
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`Relu gradient on ${backend} (no ReluGrad kernel) computes exactly what the stock gradient does`, async () => {
    if (stockGradient === undefined) throw new Error('no stock Relu gradient');
    const expected = await reluGradientOn(backend, stockGradient);
    const actual = await reluGradientOn(backend, reluGradientConfig);
    assert.ok(!actual.kernels.includes(ReluGrad));
    assert.deepEqual(actual.gradient, expected.gradient);
  });
}
