import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import { FusedBatchNorm, GradConfig, Mean } from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs' stock gradients, the reference here.
import '@tensorflow/tfjs-layers';

import { assertNoLeak, BackendName, backendDataIds, compare, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { randomInt } from '../../testing/random-int';
import { nativeStatus } from '../../testing/native';
import { registerWasmTrainingKernels } from '../register-training-kernels';
import { batchNormGradientConfig, meanGradientConfig } from './batch-norm-gradients';

const tolerance = 1e-4;

// Captured before registerWasmTrainingKernels replaces them.
const stockGradients = [FusedBatchNorm, Mean].map((name) => {
  const config = tf.getGradient(name);
  if (config === undefined) throw new Error(`no stock gradient for ${name}`);
  return config;
});

before(async () => {
  await useBackends({ engineLeakChecks: false });
  registerWasmTrainingKernels();
});

function useGradients(configs: GradConfig[]): void {
  configs.forEach((config) => tf.registerGradient(config));
}

interface Case {
  shape: number[];
  /** Per-channel statistics only: the stock gradient fails on keepDims-shaped ones. */
  statistics: 'moments' | 'constant';
}

interface Inputs {
  x: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  weights: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/** sum(w * batchNorm(x)) with the statistics as tfjs-layers computes them in training mode. */
function loss(c: Case, inputs: Inputs) {
  const channels = c.shape[c.shape.length - 1];
  const axes = c.shape.slice(0, -1).map((_, axis) => axis);
  return (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor => {
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (c.statistics === 'constant') {
      mean = tf.tensor(inputs.mean, [channels]);
      variance = tf.tensor(inputs.variance, [channels]);
    } else {
      ({ mean, variance } = tf.moments(x, axes));
    }
    const y = tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
    return tf.sum(tf.mul(y, tf.tensor(inputs.weights, c.shape)));
  };
}

async function gradients(backend: BackendName, c: Case, inputs: Inputs): Promise<Float32Array[]> {
  const channels = c.shape[c.shape.length - 1];
  return onBackend(backend, async () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds(backend);
    const grads = tf.tidy(() =>
      tf.grads(loss(c, inputs))([
        tf.tensor(inputs.x, c.shape),
        tf.tensor(inputs.scale, [channels]),
        tf.tensor(inputs.offset, [channels]),
      ]),
    );
    const values = await Promise.all(grads.map(async (g) => Float32Array.from(await g.data())));
    tf.dispose(grads);
    assertNoLeak(backend, tensorsBefore, dataIdsBefore);
    return values;
  });
}

function randomCase(random: () => number, batch: number): Case {
  const rank = random() < 0.8 ? 4 : 2;
  const channels = randomInt(random, 1, 9);
  const shape = rank === 4 ? [batch, 2 * randomInt(random, 1, 5) + 1, 2 * randomInt(random, 1, 5) + 1, channels] : [batch * 5, channels];
  const statistics = random() < 0.7 ? 'moments' : 'constant';
    // Always with scale and offset: tfjs cannot record a batchNorm that lacks
  // either for backprop (the tape meets the absent input), whatever the gradient.
  return { shape, statistics };
}

function randomInputs(c: Case, random: () => number): Inputs {
  const channels = c.shape[c.shape.length - 1];
  return {
    x: randomValues(c.shape, random).map((v) => 3 * v + 0.7),
    scale: randomValues([channels], random).map((v) => v + 1.2),
    offset: randomValues([channels], random),
    weights: randomValues(c.shape, random),
    mean: randomValues([channels], random),
    variance: randomValues([channels], random).map((v) => v + 1.5),
  };
}

const native = nativeStatus();
const backends: { backend: BackendName; skip: false | string }[] = [
  { backend: 'cpu', skip: false },
  { backend: 'wasm', skip: false },
  { backend: 'tensorflow', skip: native.available ? false : native.reason },
];

for (const { backend, skip } of backends) {
  for (const batch of [1, 7]) {
    test(`batch-norm training gradients match the stock ones on ${backend}, batch ${batch}`, { skip }, async () => {
      const random = seededRandom(batch * 31 + backend.length);
      for (let i = 0; i < 12; i++) {
        const c = randomCase(random, batch);
        const inputs = randomInputs(c, random);
        useGradients(stockGradients);
        const expected = await gradients(backend, c, inputs);
        useGradients([batchNormGradientConfig, meanGradientConfig]);
        const actual = await gradients(backend, c, inputs);
        expected.forEach((values, k) => {
          const { relative } = compare(actual[k], values);
          assert.ok(relative <= tolerance, `${JSON.stringify(c)} gradient ${k}: relative error ${relative}`);
        });
      }
    });
  }
}

test('registerWasmTrainingKernels installs the batch-norm gradients', () => {
  registerWasmTrainingKernels();
  assert.equal(tf.getGradient(FusedBatchNorm), batchNormGradientConfig);
  assert.equal(tf.getGradient(Mean), meanGradientConfig);
});
