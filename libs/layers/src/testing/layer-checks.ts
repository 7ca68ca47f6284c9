import { before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initRuntime, type BackendName } from '@ippro/runtime';
import { LayerNormalization, MultiHeadAttention } from '../index';
import {
  attentionCases,
  camelCaseKeys,
  kerasVitExpectation,
  KERAS_VIT_DIR,
  loadStock,
  relativeDifference,
  tensorOf,
  type AttentionCase,
} from './keras-reference';

/** float32 on every backend against Keras's float32, and backends against each other. */
const TOLERANCE = 1e-5;
const GRADIENT_TOLERANCE = 1e-4;

function attentionLayer(testCase: AttentionCase): MultiHeadAttention {
  return new MultiHeadAttention(camelCaseKeys({ ...testCase.config, name: 'attention' }) as never);
}

/** Runs the case on the active backend; checks the weights are Keras's, in Keras's order and shapes. */
function runAttentionCase(testCase: AttentionCase): Float32Array {
  const layer = attentionLayer(testCase);
  const inputs = testCase.inputs.map(tensorOf);
  const callKwargs = camelCaseKeys(testCase.callKwargs);
  layer.apply(inputs.length === 1 ? inputs[0] : inputs, callKwargs);
  assert.deepEqual(
    layer.weights.map((weight) => [weight.originalName, weight.shape]),
    testCase.weights.map((weight) => [weight.path, weight.shape]),
    `${testCase.name}: weight names, order and shapes`,
  );
  layer.setWeights(testCase.weights.map(tensorOf));
  const output = tf.tidy(() => (layer.apply(inputs.length === 1 ? inputs[0] : inputs, callKwargs) as tf.Tensor).dataSync() as Float32Array);
  assert.deepEqual(
    layer.computeOutputShape(testCase.inputs.map((input) => input.shape)),
    testCase.output.shape,
    `${testCase.name}: output shape`,
  );
  tf.dispose(inputs);
  layer.dispose();
  return output;
}

/** Gradients of a fixed random projection of the outputs, for every trainable weight and the input. */
function gradients(model: tfl.LayersModel, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const weights = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => {
      const output = model.apply(x, { training: true }) as tf.Tensor;
      const projection = tf.randomNormal(output.shape, 0, 1, 'float32', 7);
      return tf.sum(tf.mul(tf.log(output), projection)) as tf.Scalar;
    }, weights);
    const inputGradient = tf.grad((input: tf.Tensor) => tf.sum(tf.square(model.apply(input) as tf.Tensor)))(x);
    return [...weights.map((weight) => grads[weight.name].dataSync() as Float32Array), inputGradient.dataSync() as Float32Array];
  });
}

/**
 * The layer tests that depend on the backend: MultiHeadAttention against Keras in every
 * configuration the fixture holds, a Keras ViT loaded by stock tf.loadLayersModel against Keras's
 * predictions, and (off cpu) every gradient of that ViT against the cpu backend.
 */
export function describeLayerChecks(backend: BackendName): void {
  describe(`@ippro/layers on the ${backend} backend`, () => {
    let unavailable: string | undefined;
    let tfjsBackend = 'cpu';
    before(async () => {
      try {
        tfjsBackend = (await initRuntime({ backend })).tfjsBackend;
      } catch (error) {
        unavailable = (error as Error).message;
      }
    });
    const guarded = (name: string, body: () => Promise<void> | void) =>
      it(name, async (t: TestContext) => {
        if (unavailable !== undefined) {
          t.skip(unavailable);
          return;
        }
        await body();
      });

    guarded('MultiHeadAttention reproduces Keras: self and cross attention, rank 4, attention axes, causal mask', () => {
      for (const testCase of attentionCases()) {
        const error = relativeDifference(runAttentionCase(testCase), testCase.output.values);
        assert.ok(error <= TOLERANCE, `${testCase.name}: relative difference ${error} from Keras`);
      }
    });

    guarded("LayerNormalization computes tfjs's stock values and gradients (input, gamma, beta) with its own gradient", () => {
      const layer = new LayerNormalization({ epsilon: 1e-6, name: 'norm' });
      const x = tf.randomNormal([3, 5, 8], 0, 2, 'float32', 4);
      layer.apply(x);
      layer.setWeights([tf.randomNormal([8], 1, 0.3, 'float32', 5), tf.randomNormal([8], 0, 0.3, 'float32', 6)]);
      const stockCall = (Object.getPrototypeOf(LayerNormalization.prototype) as { call: LayerNormalization['call'] }).call;
      const projection = tf.randomNormal([3, 5, 8], 0, 1, 'float32', 7);
      const run = (call: (input: tf.Tensor) => tf.Tensor): Float32Array[] =>
        tf.tidy(() => {
          const weights = layer.trainableWeights.map((weight) => weight.read() as tf.Variable);
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(call(x), projection)) as tf.Scalar, weights);
          const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(call(input), projection)))(x);
          return [value, dx, ...weights.map((weight) => grads[weight.name])].map((t) => t.dataSync() as Float32Array);
        });
      const ours = run((input) => layer.apply(input) as tf.Tensor);
      const stock = run((input) => stockCall.call(layer, input, {}) as tf.Tensor);
      ['loss', 'dx', 'dgamma', 'dbeta'].forEach((what, index) => {
        const error = relativeDifference(ours[index], stock[index]);
        assert.ok(error <= TOLERANCE, `${what}: relative difference ${error} from the stock computation`);
      });
      tf.dispose([x, projection]);
      layer.dispose();
    });

    guarded('a Keras ViT converted to a LayersModel loads with stock tf.loadLayersModel and predicts as Keras', async () => {
      const model = await loadStock(KERAS_VIT_DIR);
      const expected = kerasVitExpectation();
      const images = tensorOf(expected.inputs);
      const probabilities = tf.tidy(() => (model.predict(images) as tf.Tensor).dataSync());
      const error = relativeDifference(probabilities, expected.probabilities.values);
      assert.ok(error <= TOLERANCE, `relative difference ${error} from Keras`);
      images.dispose();
      model.dispose();
    });

    if (backend !== 'cpu') {
      guarded('every gradient of the ViT (weights and input) agrees with the cpu backend', async () => {
        const model = await loadStock(KERAS_VIT_DIR);
        const images = tensorOf(kerasVitExpectation().inputs);
        const candidate = gradients(model, images);
        await tf.setBackend('cpu');
        try {
          const reference = gradients(model, images);
          const names = [...model.trainableWeights.map((weight) => weight.originalName), 'input'];
          // The key bias cannot change the scores (a constant per query row), so its gradient is
          // rounding noise: every gradient is compared on the scale of the largest one.
          const scale = Math.max(...reference.map((values) => Math.max(...values.map(Math.abs))));
          reference.forEach((values, index) => {
            const error = relativeDifference(candidate[index], values, scale * 1e-3);
            assert.ok(error <= GRADIENT_TOLERANCE, `gradient of ${names[index]}: relative difference ${error} from cpu`);
          });
        } finally {
          await tf.setBackend(tfjsBackend);
        }
        images.dispose();
        model.dispose();
      });
    }
  });
}
