import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { SyntheticImageDataset } from '@ippro/data';
import {
  applyBatchNormStatistics,
  batchNormStatistics,
  concatBatchNormStatistics,
  deserializeBatchNormStatistics,
  recalibrateBatchNorm,
  recalibrationBatches,
  serializeBatchNormStatistics,
} from './batch-norm-recalibration';

const EPSILON = 1e-3;

/**
 * input -> BN -> 1x1 conv (4 filters) -> BN -> ReLU -> flatten -> dense (5) -> BN -> ReLU ->
 * dense (3, softmax): a batch norm on the model input, on a convolution and on a dense layer,
 * every one with a gamma and beta away from 1 and 0.
 */
function smallModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [32, 32, 3] });
  let x = tfl.layers.batchNormalization({ name: 'bn_input' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 4, kernelSize: 1, useBias: false, name: 'conv', kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_conv' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: 'relu_conv' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 5, name: 'dense', kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }), biasInitializer: tfl.initializers.randomNormal({ seed: 3 }) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn_dense' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: 'relu_dense' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }) }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  ['bn_input', 'bn_conv', 'bn_dense'].forEach((name, index) => {
    const layer = model.getLayer(name);
    const channels = layer.getWeights()[0]?.shape[0] ?? 0;
    const [gamma, beta, mean, variance] = [1.5 + index, 0.3 - index, 0.2, 2].map((base, k) => tf.add(base, tf.randomUniform([channels], -0.2, 0.2, 'float32', 10 * index + k)));
    layer.setWeights([gamma, beta, mean, variance] as tf.Tensor[]);
  });
  return model;
}

type Moments = { mean: number[]; variance: number[] };

/** Mean and biased variance of rows x channels values (row-major), per channel, in float64. */
function moments(values: Float64Array, channels: number): Moments {
  const rows = values.length / channels;
  const mean = new Array<number>(channels).fill(0);
  const variance = new Array<number>(channels).fill(0);
  for (let i = 0; i < values.length; i++) mean[i % channels] += (values[i] ?? 0) / rows;
  for (let i = 0; i < values.length; i++) variance[i % channels] += ((values[i] ?? 0) - (mean[i % channels] ?? 0)) ** 2 / rows;
  return { mean, variance };
}

/** Training-mode batch normalisation of rows x channels values, then ReLU when asked, in float64. */
function normalise(values: Float64Array, channels: number, stats: Moments, gamma: number[], beta: number[], relu: boolean): Float64Array {
  return values.map((value, i) => {
    const c = i % channels;
    const y = ((gamma[c] ?? 0) * (value - (stats.mean[c] ?? 0))) / Math.sqrt((stats.variance[c] ?? 0) + EPSILON) + (beta[c] ?? 0);
    return relu ? Math.max(y, 0) : y;
  });
}

/** Every batch norm's batch moments of one batch, from a float64 forward pass in training mode. */
function float64Moments(model: tfl.LayersModel, x: Float64Array, size: number): Moments[] {
  const weights = (name: string): number[][] => model.getLayer(name).getWeights().map((tensor) => Array.from(tensor.dataSync()));
  const [g0, b0] = weights('bn_input');
  const [kernel] = weights('conv');
  const [g1, b1] = weights('bn_conv');
  const [denseKernel, denseBias] = weights('dense');
  const positions = 32 * 32;
  const m0 = moments(x, 3);
  const y0 = normalise(x, 3, m0, g0 ?? [], b0 ?? [], false);
  const conv = new Float64Array(size * positions * 4);
  for (let p = 0; p < size * positions; p++) {
    for (let o = 0; o < 4; o++) for (let c = 0; c < 3; c++) conv[p * 4 + o] += (y0[p * 3 + c] ?? 0) * (kernel?.[c * 4 + o] ?? 0);
  }
  const m1 = moments(conv, 4);
  const y1 = normalise(conv, 4, m1, g1 ?? [], b1 ?? [], true);
  const features = positions * 4;
  const dense = new Float64Array(size * 5);
  for (let n = 0; n < size; n++) {
    for (let u = 0; u < 5; u++) {
      let sum = denseBias?.[u] ?? 0;
      for (let f = 0; f < features; f++) sum += (y1[n * features + f] ?? 0) * (denseKernel?.[f * 5 + u] ?? 0);
      dense[n * 5 + u] = sum;
    }
  }
  return [m0, m1, moments(dense, 5)];
}

const dataset = new SyntheticImageDataset('synthetic', { size: 20, seed: 4, numClasses: 3 });
const settings = { batches: 5, batchSize: 6, seed: 9 };

function inputsOf(range: { start: number; end: number }): Generator<tf.Tensor> {
  return (function* () {
    for (const batch of recalibrationBatches(dataset, range, settings.batchSize, settings.seed)) yield batch.x;
  })();
}

before(async () => {
  await tf.setBackend('cpu');
});

describe('batch-norm recalibration', () => {
  it('sets every moving mean and variance to the size-weighted average of the batch moments, as a float64 forward pass computes them', async () => {
    const model = smallModel();
    const expected: { total: number; mean: number[][]; variance: number[][] } = { total: 0, mean: [[], [], []], variance: [[], [], []] };
    // 5 batches of 6 from 20 samples: the 4 batches of epoch 0 (the last one of 2) and the first of epoch 1.
    const sizes: number[] = [];
    for (const batch of recalibrationBatches(dataset, { start: 0, end: 5 }, 6, 9)) {
      const size = batch.labels.length;
      sizes.push(size);
      float64Moments(model, Float64Array.from(batch.x.dataSync()), size).forEach((layer, index) => {
        layer.mean.forEach((value, c) => ((expected.mean[index] as number[])[c] = ((expected.mean[index] as number[])[c] ?? 0) + size * value));
        layer.variance.forEach((value, c) => ((expected.variance[index] as number[])[c] = ((expected.variance[index] as number[])[c] ?? 0) + size * value));
      });
      expected.total += size;
    }
    assert.deepEqual(sizes, [6, 6, 6, 2, 6]);
    const stats = await recalibrateBatchNorm(model, dataset, settings);
    assert.deepEqual(stats.layers, [{ name: 'bn_input', channels: 3 }, { name: 'bn_conv', channels: 4 }, { name: 'bn_dense', channels: 5 }]);
    ['bn_input', 'bn_conv', 'bn_dense'].forEach((name, index) => {
      const [, , mean, variance] = model.getLayer(name).getWeights().map((tensor) => Array.from(tensor.dataSync()));
      const check = (got: number[] | undefined, sums: number[] | undefined, what: string): void =>
        (sums ?? []).forEach((sum, c) => {
          const want = sum / expected.total;
          const value = got?.[c] ?? Number.NaN;
          assert.ok(Math.abs(value - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${name} ${what}[${c}]: ${value} vs ${want}`);
        });
      check(mean, expected.mean[index], 'moving mean');
      check(variance, expected.variance[index], 'moving variance');
    });
    model.dispose();
  });

  it('gathers the same numbers in two batch shards as in one pass, and leaves the model unchanged while gathering', async () => {
    const model = smallModel();
    const before = model.getWeights().map((tensor) => Array.from(tensor.dataSync()));
    const whole = await batchNormStatistics(model, inputsOf({ start: 0, end: 5 }));
    assert.deepEqual(model.getWeights().map((tensor) => Array.from(tensor.dataSync())), before, 'gathering changes no weight or statistic');
    const parts = [await batchNormStatistics(model, inputsOf({ start: 0, end: 2 })), await batchNormStatistics(model, inputsOf({ start: 2, end: 5 }))];
    const merged = deserializeBatchNormStatistics(serializeBatchNormStatistics(concatBatchNormStatistics(parts.map((part) => deserializeBatchNormStatistics(serializeBatchNormStatistics(part))))));
    assert.deepEqual(merged, whole);
    const other = smallModel();
    applyBatchNormStatistics(model, whole);
    applyBatchNormStatistics(other, merged);
    assert.deepEqual(model.getWeights().map((tensor) => Array.from(tensor.dataSync())), other.getWeights().map((tensor) => Array.from(tensor.dataSync())));
    assert.notDeepEqual(model.getWeights().map((tensor) => Array.from(tensor.dataSync())), before, 'the statistics moved');
    model.dispose();
    other.dispose();
  });

  it('leaves no tensors behind, and refuses statistics of another model', async () => {
    const model = smallModel();
    const tensors = tf.memory().numTensors;
    const stats = await batchNormStatistics(model, inputsOf({ start: 0, end: 2 }));
    assert.equal(tf.memory().numTensors, tensors);
    const pruned = { ...stats, layers: stats.layers.map((layer, index) => (index === 1 ? { ...layer, channels: 3 } : layer)) };
    assert.throws(() => applyBatchNormStatistics(model, pruned), /cover layers bn_input\(3\), bn_conv\(3\), bn_dense\(5\), not the model's/);
    assert.throws(() => deserializeBatchNormStatistics(Buffer.from('{"format":"x"}')), /expected format ippro\.batch-norm-statistics version 1/);
    model.dispose();
  });
});
