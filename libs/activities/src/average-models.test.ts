import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { modelFromArtifact, modelToArtifact } from '@ippro/model-artifact';
import { averageModelArtifacts } from './average-models';

before(async () => {
  await tf.setBackend('cpu');
});

function denseModel(kernel: number[], bias: number[], units = 2): tfl.LayersModel {
  const input = tfl.input({ shape: [2], name: 'x' });
  const output = tfl.layers.dense({ units, name: 'dense', activation: 'softmax' }).apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: 'avg' });
  model.getLayer('dense').setWeights([tf.tensor2d(kernel, [2, units]), tf.tensor1d(bias)]);
  return model;
}

describe('averageModelArtifacts', () => {
  it('weights each model by its sample count, in float64, rounded once to float32', async () => {
    const a = denseModel([1, 2, 3, 4], [0.1, 0.2]);
    const b = denseModel([5, 6, 7, 8], [0.3, 0.7]);
    const bytes = averageModelArtifacts([
      { bytes: modelToArtifact(a), weight: 3 },
      { bytes: modelToArtifact(b), weight: 1 },
    ]);
    const averaged = await modelFromArtifact(bytes);
    const [kernel, bias] = averaged.getWeights();
    assert.deepEqual(Array.from(kernel?.dataSync() ?? []), [2, 3, 4, 5]);
    const expectedBias = [Math.fround((3 * Math.fround(0.1) + Math.fround(0.3)) / 4), Math.fround((3 * Math.fround(0.2) + Math.fround(0.7)) / 4)];
    assert.deepEqual(Array.from(bias?.dataSync() ?? []), expectedBias);
    // Deterministic, and one model averages to itself.
    assert.ok(bytes.equals(averageModelArtifacts([{ bytes: modelToArtifact(a), weight: 3 }, { bytes: modelToArtifact(b), weight: 1 }])));
    assert.ok(averageModelArtifacts([{ bytes: modelToArtifact(a), weight: 5 }]).equals(modelToArtifact(a)));
    [a, b, averaged].forEach((model) => model.dispose());
  });

  it('refuses models of different architectures and zero total weight, naming the model', () => {
    const a = denseModel([1, 2, 3, 4], [0, 0]);
    const c = denseModel([1, 2, 3, 4, 5, 6], [0, 0, 0], 3);
    assert.throws(() => averageModelArtifacts([{ bytes: modelToArtifact(a), weight: 1 }, { bytes: modelToArtifact(c), weight: 1 }]), /models\[1\] has another architecture/);
    assert.throws(() => averageModelArtifacts([{ bytes: modelToArtifact(a), weight: 0 }, { bytes: modelToArtifact(a), weight: 0 }]), /add up to 0/);
    assert.throws(() => averageModelArtifacts([]), /at least one model/);
    [a, c].forEach((model) => model.dispose());
  });
});
