import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GroupMember } from '@ippro/graph';
import { unitWeightSlices } from './unit-slices';
import { useCpuBackend } from './testing/fixture';

function tinyModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [5, 5, 3], name: 'image' });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 2, name: 'conv' }).apply(input) as tfl.SymbolicTensor;
  const depthwise = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: 'dw' })
    .apply(conv) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(depthwise) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

function picked(model: tfl.LayersModel, member: GroupMember, includeBias = false): number[] {
  return unitWeightSlices(model.getLayer(member.layer), member, includeBias).flatMap((slice) => {
    const data = slice.variable.dataSync();
    return Array.from(slice.indices, (index) => data[index]);
  });
}

describe('unit weight slices', () => {
  it('take Conv2D kernel[:, :, :, u] and Dense kernel[:, u] (then the bias)', async () => {
    await useCpuBackend();
    const model = tinyModel();
    const [kernel, bias] = model.getLayer('conv').getWeights();
    const expected = tf.tidy(() => tf.slice(kernel, [0, 0, 0, 1], [2, 2, 3, 1]).dataSync());
    assert.deepEqual(picked(model, { layer: 'conv', channel: 1, kind: 'kernel' }), Array.from(expected));
    const withBias = picked(model, { layer: 'conv', channel: 1, kind: 'kernel' }, true);
    assert.deepEqual(withBias, [...Array.from(expected), bias.dataSync()[1]]);
    const [dense] = model.getLayer('out').getWeights();
    const column = tf.tidy(() => tf.slice(dense, [0, 1], [8, 1]).dataSync());
    assert.deepEqual(picked(model, { layer: 'out', channel: 1, kind: 'kernel' }), Array.from(column));
    model.dispose();
  });

  it('take DepthwiseConv2D kernel[:, :, c, k] for output channel c * multiplier + k', async () => {
    await useCpuBackend();
    const model = tinyModel();
    const [kernel] = model.getLayer('dw').getWeights();
    // Output channel 5 = input channel 2 * multiplier 2 + k 1.
    const expected = tf.tidy(() => tf.slice(kernel, [0, 0, 2, 1], [3, 3, 1, 1]).dataSync());
    assert.deepEqual(picked(model, { layer: 'dw', channel: 5, kind: 'depthwise' }), Array.from(expected));
    assert.throws(() => picked(model, { layer: 'dw', channel: 8, kind: 'depthwise' }), /outside the layer's 8 output channels/);
    assert.throws(() => picked(model, { layer: 'pool', channel: 0, kind: 'kernel' }), /not a supported unit producer/);
    model.dispose();
  });
});
