import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { BackendName, compare, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { nativeStatus } from '../../testing/native';
import { FusedBatchNormV3 } from '../kernels/fused-batch-norm-v3';
import { FusedBatchNormGradV3 } from '../kernels/fused-batch-norm-grad-v3';
import { fusedBatchNormTrainingInstalled, installFusedBatchNormTraining, uninstallFusedBatchNormTraining } from './batch-normalization-training';

const tolerance = 1e-4;
const native = nativeStatus();
const skip = native.available ? false : native.reason;

before(() => useBackends({ engineLeakChecks: false }));
after(() => installFusedBatchNormTraining());

interface LayerCase {
  name: string;
  inputShape: number[];
  layer: () => tfl.layers.Layer;
}

const cases: LayerCase[] = [
  { name: 'NHWC, default epsilon and momentum', inputShape: [7, 5, 3, 6], layer: () => tfl.layers.batchNormalization() },
  {
    name: 'NHWC, ResNet settings',
    inputShape: [7, 9, 9, 4],
    layer: () => tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }),
  },
  { name: 'rank 2 (after a dense layer)', inputShape: [7, 5], layer: () => tfl.layers.batchNormalization({ momentum: 0.5 }) },
  { name: 'rank 3, axis 2', inputShape: [7, 3, 4], layer: () => tfl.layers.batchNormalization({ axis: 2 }) },
  { name: 'batch 1', inputShape: [1, 3, 5, 3], layer: () => tfl.layers.batchNormalization() },
];

interface Step {
  output: Float32Array;
  /** Gradients of gamma, beta and the input, then the moving mean and variance after the step. */
  values: Float32Array[];
  kernels: string[];
}

function seededTensor(shape: number[], seed: number, transform: (v: number) => number = (v) => v): tf.Tensor {
  return tf.tensor(randomValues(shape, seededRandom(seed)).map(transform), shape);
}

/** Builds the layer with seeded weights and takes one training-mode gradient step on sum(w * layer(x)). */
async function trainingStep(backend: BackendName, c: LayerCase, training = true): Promise<Step> {
  return onBackend(backend, async () => {
    const layer = c.layer();
    const channels = c.inputShape[c.inputShape.length - 1] ?? 1;
    layer.build(c.inputShape);
    layer.setWeights([
      seededTensor([channels], 1, (v) => v + 1.2),
      seededTensor([channels], 2),
      seededTensor([channels], 3),
      seededTensor([channels], 4, (v) => Math.abs(v) + 0.5),
    ]);
    const x = tf.variable(seededTensor(c.inputShape, 5, (v) => 3 * v + 0.7));
    const weights = seededTensor(c.inputShape, 6);
    const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    let output = new Float32Array();
    let grads: Float32Array[] = [];
    const profile = await tf.profile(() => {
      const result = tf.variableGrads(() => {
        const y = layer.apply(x, { training }) as tf.Tensor;
        output = Float32Array.from(y.dataSync());
        return tf.sum(tf.mul(y, weights));
      }, [gamma as tf.Variable, beta as tf.Variable, x]);
      grads = [gamma, beta, x].map((v) => Float32Array.from((result.grads[(v as tf.Variable).name] as tf.Tensor).dataSync()));
      tf.dispose([result.value, ...Object.values(result.grads)]);
    });
    const moving = layer.getWeights().slice(2).map((w) => Float32Array.from(w.dataSync()));
    tf.dispose([x, weights]);
    layer.weights.forEach((weight) => weight.dispose());
    return { output, values: [...grads, ...moving], kernels: profile.kernelNames };
  });
}

function assertClose(actual: Step, expected: Step, what: string): number {
  let worst = compare(actual.output, expected.output).relative;
  ['dGamma', 'dBeta', 'dx', 'moving mean', 'moving variance'].forEach((name, k) => {
    const { relative } = compare(actual.values[k] ?? [], expected.values[k] ?? []);
    assert.ok(relative <= tolerance, `${what} ${name}: relative error ${relative}`);
    worst = Math.max(worst, relative);
  });
  assert.ok(worst <= tolerance, `${what} output: relative error ${worst}`);
  return worst;
}

for (const c of cases) {
  test(`BatchNormalization training step on the native backend (fused) equals the stock layer on cpu: ${c.name}`, { skip }, async (t) => {
    installFusedBatchNormTraining();
    const expected = await trainingStep('cpu', c);
    const actual = await trainingStep('tensorflow', c);
    assert.ok(actual.kernels.includes(FusedBatchNormV3), 'the fused forward kernel did not run');
    assert.ok(actual.kernels.includes(FusedBatchNormGradV3), 'the fused gradient kernel did not run');
    assert.ok(!expected.kernels.includes(FusedBatchNormV3), 'cpu must run the stock layer');
    t.diagnostic(`worst relative error ${assertClose(actual, expected, c.name).toExponential(2)}`);
  });
}

test('the stock call still runs in inference mode and on backends without the fused kernel', { skip }, async () => {
  installFusedBatchNormTraining();
  const inference = await trainingStep('tensorflow', cases[0] as LayerCase, false);
  assert.ok(!inference.kernels.includes(FusedBatchNormV3));
  assertClose(inference, await trainingStep('cpu', cases[0] as LayerCase, false), 'inference mode');
  const wasm = await trainingStep('wasm', cases[1] as LayerCase);
  assert.ok(!wasm.kernels.includes(FusedBatchNormV3));
  assertClose(wasm, await trainingStep('cpu', cases[1] as LayerCase), 'wasm');
});

test('uninstalling restores the stock layer call', { skip }, async () => {
  installFusedBatchNormTraining();
  uninstallFusedBatchNormTraining();
  assert.equal(fusedBatchNormTrainingInstalled(), false);
  const stock = await trainingStep('tensorflow', cases[0] as LayerCase);
  assert.ok(!stock.kernels.includes(FusedBatchNormV3));
  installFusedBatchNormTraining();
  installFusedBatchNormTraining();
  assert.equal(fusedBatchNormTrainingInstalled(), true);
  const fused = await trainingStep('tensorflow', cases[0] as LayerCase);
  assertClose(fused, stock, 'fused against stock on the native backend');
});
