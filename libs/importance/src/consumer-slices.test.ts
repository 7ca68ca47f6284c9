import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildChannelGraph } from '@ippro/graph';
import { groupWeights } from './group-weights';
import { useCpuBackend } from './testing/fixture';

type Nested = number | Nested[];

/** Sum of squares of every element of kernel[...] whose coordinate on `axis` is in `indices`. */
function squaresAlong(kernel: Nested, axis: number, indices: readonly number[], depth = 0): number {
  if (!Array.isArray(kernel)) {
    return kernel * kernel;
  }
  const chosen = depth === axis ? indices.map((index) => kernel[index]) : kernel;
  return chosen.reduce((sum: number, part) => sum + squaresAlong(part, axis, indices, depth + 1), 0);
}

describe("consumers' input-channel slices (group-norm's coupled parameters)", () => {
  it('reads Conv2D input channels, SeparableConv2D depthwise and pointwise rows, and Dense rows behind a Flatten', async () => {
    await useCpuBackend();
    const input = tfl.input({ shape: [5, 5, 2], name: 'image' });
    let x = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false, name: 'conv_a' }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: 'bn_a' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ name: 'relu_a' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'sep' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'conv_b' }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.flatten({ name: 'flat' }).apply(x) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const kernel = (layer: string, index = 0): Nested => model.getLayer(layer).getWeights()[index].arraySync() as Nested;
    const weights = groupWeights(model, buildChannelGraph(model));
    const consumerNorm = (unitLayer: string, channel: number): number => {
      const entry = weights.groups.find((candidate) => candidate.group.members.some((member) => member.layer === unitLayer && member.channel === channel && member.kind === 'kernel'));
      assert.ok(entry, `a group with unit ${unitLayer}/${channel}`);
      return entry.consumerSquaredNorm;
    };
    for (let c = 0; c < 3; c++) {
      // conv_a channel c runs through the depthwise layer (its units c*2, c*2+1) into sep.
      const depthwiseChannels = [2 * c, 2 * c + 1];
      const pointwiseRows = depthwiseChannels.flatMap((channel) => [2 * channel, 2 * channel + 1]);
      const expected = squaresAlong(kernel('sep', 0), 2, depthwiseChannels) + squaresAlong(kernel('sep', 1), 2, pointwiseRows);
      assert.ok(Math.abs(consumerNorm('conv_a', c) - expected) <= 1e-12 * expected, `conv_a:${c}`);
    }
    for (let c = 0; c < 4; c++) {
      const expected = squaresAlong(kernel('conv_b'), 2, [c]);
      assert.ok(Math.abs(consumerNorm('sep', c) - expected) <= 1e-12 * expected, `sep:${c}`);
    }
    for (let c = 0; c < 2; c++) {
      const rows = Array.from({ length: 25 }, (_, position) => position * 2 + c);
      const expected = squaresAlong(kernel('out'), 0, rows);
      assert.ok(Math.abs(consumerNorm('conv_b', c) - expected) <= 1e-12 * expected, `conv_b:${c}`);
    }
    model.dispose();
  });
});
