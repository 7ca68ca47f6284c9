import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs' stock gradients, the reference here.
import '@tensorflow/tfjs-layers';

import { assertNoLeak, backendDataIds, BackendName, compare, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { nativeStatus } from '../../testing/native';
import { randomInt } from '../../testing/random-int';
import { FusedBatchNormGradV3 } from '../kernels/fused-batch-norm-grad-v3';
import { fusedBatchNormTraining } from '../ops/fused-batch-norm-training';

const tolerance = 1e-4;
const native = nativeStatus();
const skip = native.available ? false : native.reason;
const epsilon = 1e-3;

before(() => useBackends({ engineLeakChecks: false }));

interface Inputs {
  shape: number[];
  x: Float32Array;
  weights: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
}

interface Run {
  /** The loss, then dx, dScale, dOffset. */
  values: Float32Array[];
  kernels: string[];
}

/**
 * Ranks 2 to 4 (the stock gradient, the reference, fails on rank 5), channels last;
 * ranks 2 and 3 go through the op's NHWC view.
 */
function randomInputs(random: () => number, batch: number): Inputs {
  const rank = randomInt(random, 2, 4);
  // A single value per channel has no spread to normalise (its gradient is zero up to
  // rounding noise), so rank 2 gets several rows per batch entry.
  const rows = rank === 2 ? batch * 5 : batch;
  const shape = [rows, ...Array.from({ length: rank - 2 }, () => 2 * randomInt(random, 1, 4) + 1), randomInt(random, 1, 9)];
  const channels = shape[rank - 1] ?? 1;
  return {
    shape,
    x: randomValues(shape, random).map((v) => 3 * v + 0.7),
    weights: randomValues(shape, random),
    scale: randomValues([channels], random).map((v) => v + 1.2),
    offset: randomValues([channels], random),
  };
}

type Normalise = (x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D) => tf.Tensor;

/** What tfjs-layers runs in training mode. */
const stock: Normalise = (x, scale, offset) => {
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, axis) => axis));
  return tf.batchNorm(x, mean, variance, offset, scale, epsilon);
};

const fused: Normalise = (x, scale, offset) => fusedBatchNormTraining(x, scale, offset, epsilon).normalized;

async function lossAndGradients(backend: BackendName, normalise: Normalise, inputs: Inputs): Promise<Run> {
  return onBackend(backend, async () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds(backend);
    let values: Float32Array[] = [];
    const profile = await tf.profile(() => {
      values = tf.tidy(() => {
        const loss = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(normalise(x, scale as tf.Tensor1D, offset as tf.Tensor1D), tf.tensor(inputs.weights, inputs.shape)));
        const { value, grads } = tf.valueAndGrads(loss)([
          tf.tensor(inputs.x, inputs.shape),
          tf.tensor1d(inputs.scale),
          tf.tensor1d(inputs.offset),
        ]);
        return [value, ...grads].map((t) => Float32Array.from(t.dataSync()));
      });
    });
    assertNoLeak(backend, tensorsBefore, dataIdsBefore);
    return { values, kernels: profile.kernelNames };
  });
}

for (const batch of [1, 7]) {
  test(`fused training batch norm on the native backend: loss and gradients match the stock composition on cpu, batch ${batch}`, { skip }, async (t) => {
    const random = seededRandom(batch * 7 + 3);
    let worst = 0;
    for (let i = 0; i < 12; i++) {
      const inputs = randomInputs(random, batch);
      const expected = await lossAndGradients('cpu', stock, inputs);
      const actual = await lossAndGradients('tensorflow', fused, inputs);
      assert.ok(actual.kernels.includes(FusedBatchNormGradV3), 'the backward pass did not run FusedBatchNormGradV3');
      assert.ok(!actual.kernels.includes('Mean'), 'no moments are computed by separate kernels');
      ['loss', 'dx', 'dScale', 'dOffset'].forEach((name, k) => {
        const { relative } = compare(actual.values[k] ?? [], expected.values[k] ?? []);
        assert.ok(relative <= tolerance, `[${inputs.shape}] ${name}: relative error ${relative}`);
        worst = Math.max(worst, relative);
      });
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });
}

test('fused training batch norm returns the batch statistics tf.moments gives', { skip }, async () => {
  const inputs = randomInputs(seededRandom(99), 7);
  const axes = inputs.shape.slice(0, -1).map((_, axis) => axis);
  const statistics = (backend: BackendName, compute: (x: tf.Tensor) => tf.Tensor[]): Promise<Float32Array[]> =>
    onBackend(backend, () => tf.tidy(() => compute(tf.tensor(inputs.x, inputs.shape)).map((s) => Float32Array.from(s.dataSync()))));
  const expected = await statistics('cpu', (x) => Object.values(tf.moments(x, axes)));
  const actual = await statistics('tensorflow', (x) => {
    const { mean, variance } = fusedBatchNormTraining(x, tf.tensor1d(inputs.scale), tf.tensor1d(inputs.offset), epsilon);
    return [mean, variance];
  });
  expected.forEach((values, k) => assert.ok(compare(actual[k] ?? [], values).relative <= tolerance));
});

test('fused training batch norm rejects a tensor without a channel axis', { skip }, async () => {
  await onBackend('tensorflow', () => {
    const x = tf.zeros([5]);
    assert.throws(() => fusedBatchNormTraining(x, tf.ones([5]), tf.zeros([5]), epsilon), {
      message: 'batch normalisation needs a batch and a channel axis, got shape [5]',
    });
  });
});
