import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildResNetCifar, countMultiplyAccumulates } from '@ippro/models';
import { buildChannelGraph } from './build-channel-graph';
import type { ChannelGraph } from './channel-graph';
import { modelCost } from './model-cost';
import { depthwiseModel, flattenModel, separableModel, smallVgg, concatModel } from './testing/small-models';

test.before(async () => {
  await tf.setBackend('cpu');
});

function groupsOf(graph: ChannelGraph, layer: string, channels: number[]): Set<number> {
  const node = graph.layers.find((l) => l.name === layer);
  assert.ok(node);
  return new Set(channels.map((c) => node.channelGroups[c]));
}

/** Hand count of ResNet-20 (CIFAR, 32x32x3 input, 3x3 convs without bias, BN with 4 weights per channel). */
const RESNET20 = (() => {
  const conv = (k: number, cin: number, cout: number) => k * k * cin * cout;
  const bn = (c: number) => 4 * c;
  const stem = conv(3, 3, 16) + bn(16);
  const stage1 = 3 * (2 * conv(3, 16, 16) + 2 * bn(16));
  const stage2 = conv(3, 16, 32) + conv(3, 32, 32) + conv(1, 16, 32) + 3 * bn(32) + 2 * (2 * conv(3, 32, 32) + 2 * bn(32));
  const stage3 = conv(3, 32, 64) + conv(3, 64, 64) + conv(1, 32, 64) + 3 * bn(64) + 2 * (2 * conv(3, 64, 64) + 2 * bn(64));
  const classifier = 64 * 10 + 10;
  const stemMacs = 32 * 32 * conv(3, 3, 16);
  const stage1Macs = 6 * 32 * 32 * conv(3, 16, 16);
  const stage2Macs = 16 * 16 * (conv(3, 16, 32) + conv(1, 16, 32) + 5 * conv(3, 32, 32));
  const stage3Macs = 8 * 8 * (conv(3, 32, 64) + conv(1, 32, 64) + 5 * conv(3, 64, 64));
  return {
    params: stem + stage1 + stage2 + stage3 + classifier,
    macs: stemMacs + stage1Macs + stage2Macs + stage3Macs + 64 * 10,
    // Unit layers: stem, 6+7+7 convs (shortcuts included), classifier.
    channels: 16 + 6 * 16 + 7 * 32 + 7 * 64 + 10,
  };
})();

test('ResNet-20: params, MACs and channels match the hand count and tfjs', () => {
  const model = buildResNetCifar({ depth: 20 });
  const cost = modelCost(buildChannelGraph(model));
  assert.deepEqual(cost, RESNET20);
  assert.equal(cost.params, 274_042);
  assert.equal(cost.params, model.countParams());
  assert.equal(cost.macs, countMultiplyAccumulates(model));
  model.dispose();
});

test('ResNet-20: removing one stage-1 group shrinks every layer it passes through', () => {
  const model = buildResNetCifar({ depth: 20 });
  const graph = buildChannelGraph(model);
  const stageGroup = groupsOf(graph, 'stage1_block1_add', [0]);
  // stem conv loses a filter (3*3*3) and its BN channel (4); each stage-1 block loses an input
  // slice of its first conv (3*3*16), a filter of its second (3*3*16) and a BN channel (4);
  // stage 2's first conv and shortcut lose an input slice (3*3*32 and 32).
  const removedParams = 27 + 4 + 3 * (144 + 144 + 4) + 288 + 32;
  const removedMacs = 32 * 32 * 27 + 6 * 32 * 32 * 144 + 16 * 16 * 288 + 16 * 16 * 32;
  assert.deepEqual(modelCost(graph, stageGroup), {
    params: RESNET20.params - removedParams,
    macs: RESNET20.macs - removedMacs,
    channels: RESNET20.channels - 4,
  });
  const innerGroup = groupsOf(graph, 'stage1_block1_1_conv', [0]);
  assert.deepEqual(modelCost(graph, innerGroup), {
    params: RESNET20.params - (144 + 4 + 144),
    macs: RESNET20.macs - 2 * 32 * 32 * 144,
    channels: RESNET20.channels - 1,
  });
  model.dispose();
});

test('small VGG: params and MACs match the hand count', () => {
  const model = smallVgg([8, 8, 16, 32]);
  const cost = modelCost(buildChannelGraph(model));
  const params = (3 * 3 * 3 * 8 + 8) + 4 * 8 + (3 * 3 * 8 * 8 + 8) + 4 * 8 + (3 * 3 * 8 * 16 + 16) + 4 * 16 + (2 * 2 * 16 * 32 + 32) + (32 * 10 + 10);
  const macs = 8 * 8 * 3 * 3 * 3 * 8 + 8 * 8 * 3 * 3 * 8 * 8 + 4 * 4 * 3 * 3 * 8 * 16 + 2 * 2 * 16 * 32 + 32 * 10;
  assert.equal(params, 4514);
  assert.equal(macs, 71488);
  assert.deepEqual(cost, { params, macs, channels: 8 + 8 + 16 + 32 + 10 });
  assert.equal(cost.params, model.countParams());
  model.dispose();
});

/** The cost after removing groups equals the real size of the same model built narrower. */
function assertMatchesNarrower(wide: tfl.LayersModel, removed: (graph: ChannelGraph) => Set<number>, narrow: tfl.LayersModel): void {
  const graph = buildChannelGraph(wide);
  const cost = modelCost(graph, removed(graph));
  assert.equal(cost.params, narrow.countParams());
  assert.equal(cost.macs, modelCost(buildChannelGraph(narrow)).macs);
  wide.dispose();
  narrow.dispose();
}

test('small VGG: removing groups gives the size of the narrower VGG', () => {
  const wide = smallVgg([8, 8, 16, 32]);
  const narrow = smallVgg([6, 8, 13, 30]);
  const graph = buildChannelGraph(wide);
  const removed = new Set([...groupsOf(graph, 'b1_conv', [0, 5]), ...groupsOf(graph, 'b3_conv', [1, 2, 15]), ...groupsOf(graph, 'fc1', [3, 4])]);
  const cost = modelCost(graph, removed);
  assert.equal(cost.params, narrow.countParams());
  assert.equal(cost.macs, countMultiplyAccumulates(narrow));
  assert.equal(cost.channels, 6 + 8 + 13 + 30 + 10);
  wide.dispose();
  narrow.dispose();
});

test('depthwise, separable, flatten and concatenate costs shrink like the narrower models', () => {
  assertMatchesNarrower(depthwiseModel(2, 4), (g) => groupsOf(g, 'conv', [1]), depthwiseModel(2, 3));
  assertMatchesNarrower(depthwiseModel(1, 4), (g) => groupsOf(g, 'conv', [0, 3]), depthwiseModel(1, 2));
  assertMatchesNarrower(separableModel(4, 6), (g) => new Set([...groupsOf(g, 'conv', [2]), ...groupsOf(g, 'sep', [0, 1])]), separableModel(3, 4));
  assertMatchesNarrower(flattenModel(3, 5), (g) => new Set([...groupsOf(g, 'conv', [1]), ...groupsOf(g, 'fc', [4])]), flattenModel(2, 4));
  assertMatchesNarrower(concatModel(2, 3), (g) => groupsOf(g, 'b', [0, 2]), concatModel(2, 1));
});

test('depthwise and separable MACs follow the documented formulas', () => {
  const depthwise = depthwiseModel(2, 4);
  // conv 6x6x(3x3x3x4); depthwise stride 2 -> 3x3x(3x3x4x2); pointwise 3x3x(8x6); dense 6x2.
  assert.equal(modelCost(buildChannelGraph(depthwise)).macs, 36 * 108 + 9 * 72 + 9 * 48 + 12);
  const separable = separableModel(4, 6);
  // conv 6x6x(3x3x3x4); separable valid 4x4x(3x3x4x2 + 4x2x6); dense 6x2.
  assert.equal(modelCost(buildChannelGraph(separable)).macs, 36 * 108 + 16 * (72 + 48) + 12);
  depthwise.dispose();
  separable.dispose();
});

test('removing an unprunable or unknown group is an error naming it', () => {
  const model = smallVgg();
  const graph = buildChannelGraph(model);
  assert.throws(() => modelCost(graph, new Set([0])), /group 0 \(image:0\): touches model input "image"/);
  assert.throws(() => modelCost(graph, new Set([9999])), /Cannot remove group 9999: the graph has \d+ groups/);
  model.dispose();
});
