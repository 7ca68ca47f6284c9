import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildChannelGraph } from './build-channel-graph';
import { groupOf, layer, memberNames } from './testing/graph-lookups';
import { concatModel, depthwiseModel, flattenModel, separableModel } from './testing/small-models';

test.before(async () => {
  await tf.setBackend('cpu');
});

test('Concatenate maps each input to its channel range at its offset', () => {
  const graph = buildChannelGraph(concatModel(2, 3));
  const cat = layer(graph, 'cat');
  assert.equal(cat.role, 'concatenate');
  assert.deepEqual(cat.inputs, ['a', 'b']);
  assert.deepEqual(cat.channelGroups.slice(0, 2), layer(graph, 'a').channelGroups);
  assert.deepEqual(cat.channelGroups.slice(2), layer(graph, 'b').channelGroups);
  assert.deepEqual(layer(graph, 'cat_bn').channelGroups, cat.channelGroups);
  // a feeds the Concatenate, not a BatchNormalization: a is its own injection point.
  assert.deepEqual(memberNames(groupOf(graph, 'b', 1)), ['b/1:kernel>b', 'cat_bn/3:batchnorm']);
  assert.deepEqual(
    graph.groups.filter((g) => g.prunable).map((g) => g.id),
    ['a:0', 'a:1', 'b:0', 'b:1', 'b:2', 'c:0', 'c:1', 'c:2', 'c:3'],
  );
});

test('DepthwiseConv2D with multiplier 1 joins the group of its input channel', () => {
  const graph = buildChannelGraph(depthwiseModel(1));
  assert.equal(layer(graph, 'dw').role, 'depthwise');
  assert.equal(layer(graph, 'dw').depthMultiplier, 1);
  assert.deepEqual(memberNames(groupOf(graph, 'dw', 2)), [
    'conv/2:kernel>conv_bn',
    'conv_bn/2:batchnorm',
    'dw/2:depthwise>dw_bn',
    'dw_bn/2:batchnorm',
  ]);
  assert.equal(groupOf(graph, 'dw', 2).id, 'conv:2');
  assert.equal(graph.groups.filter((g) => g.prunable).length, 4 + 6);
});

test('DepthwiseConv2D with multiplier 2 ties output channels 2c and 2c+1 to input channel c', () => {
  const graph = buildChannelGraph(depthwiseModel(2));
  const dw = layer(graph, 'dw');
  assert.equal(dw.outputChannels, 8);
  const conv = layer(graph, 'conv');
  assert.deepEqual(dw.channelGroups, conv.channelGroups.flatMap((g) => [g, g]));
  assert.deepEqual(memberNames(groupOf(graph, 'conv', 1)), [
    'conv/1:kernel>conv_bn',
    'conv_bn/1:batchnorm',
    'dw/2:depthwise>dw_bn',
    'dw/3:depthwise>dw_bn',
    'dw_bn/2:batchnorm',
    'dw_bn/3:batchnorm',
  ]);
  assert.equal(graph.groups.filter((g) => g.prunable).length, 4 + 6);
});

test('SeparableConv2D makes new channels and consumes its input channels', () => {
  const graph = buildChannelGraph(separableModel());
  const sep = layer(graph, 'sep');
  assert.equal(sep.role, 'producer');
  assert.deepEqual(sep.kernelSize, [3, 3]);
  assert.equal(sep.depthMultiplier, 2);
  assert.deepEqual(memberNames(groupOf(graph, 'sep', 5)), ['sep/5:kernel>sep_bn', 'sep_bn/5:batchnorm']);
  assert.deepEqual(memberNames(groupOf(graph, 'conv', 0)), ['conv/0:kernel>conv']);
  assert.equal(graph.groups.filter((g) => g.prunable).length, 4 + 6);
});

test('Flatten keeps channels with H*W features each, through Dropout into the Dense', () => {
  const graph = buildChannelGraph(flattenModel(3, 5));
  const flat = layer(graph, 'flat');
  assert.equal(flat.role, 'flatten');
  assert.deepEqual(flat.outputShape, [12]);
  assert.equal(flat.outputChannels, 3);
  assert.equal(flat.spatialSize, 4);
  const drop = layer(graph, 'drop');
  assert.equal(drop.spatialSize, 4);
  assert.equal(drop.outputChannels, 3);
  assert.deepEqual(drop.channelGroups, layer(graph, 'conv').channelGroups);
  assert.ok(groupOf(graph, 'conv', 2).prunable);
  assert.deepEqual(graph.groups.filter((g) => g.prunable).map((g) => g.id), ['conv:0', 'conv:1', 'conv:2', 'fc:0', 'fc:1', 'fc:2', 'fc:3', 'fc:4']);
});

/** Permute is a layer class the graph does not know. */
function unknownLayerModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 2], name: 'image' });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input);
  const permuted = tfl.layers.permute({ dims: [3, 1, 2], name: 'permute' }).apply(conv);
  const flat = tfl.layers.flatten({ name: 'flatten' }).apply(permuted);
  const hidden = tfl.layers.dense({ units: 4, name: 'hidden' }).apply(flat);
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(hidden) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

test('an unknown layer is frozen: the groups it touches are unprunable, others are not', () => {
  const graph = buildChannelGraph(unknownLayerModel());
  const permute = layer(graph, 'permute');
  assert.equal(permute.role, 'frozen');
  assert.match(permute.frozenReason ?? '', /has an unknown layer class \(Permute\)/);
  assert.equal(permute.fixedParams, 0);
  for (let c = 0; c < 3; c++) {
    const group = groupOf(graph, 'conv', c);
    assert.equal(group.prunable, false);
    assert.match(group.frozenReason ?? '', /touches frozen layer "permute" \(Permute\), which has an unknown layer class/);
  }
  assert.equal(groupOf(graph, 'hidden', 0).prunable, true);
});

test("unknownLayers: 'error' names the layer and its class", () => {
  assert.throws(
    () => buildChannelGraph(unknownLayerModel(), { unknownLayers: 'error' }),
    /Layer "permute" \(class Permute\) is not supported by the channel graph: it has an unknown layer class \(Permute\)/,
  );
});

test('a Reshape that keeps the channel axis passes channels through; one that changes it is frozen, saying why', () => {
  const input = tfl.input({ shape: [4, 4, 2], name: 'image' });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input);
  const tokens = tfl.layers.reshape({ targetShape: [16, 3], name: 'tokens' }).apply(conv);
  const vector = tfl.layers.reshape({ targetShape: [48], name: 'to_vector' }).apply(tokens);
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(vector) as tfl.SymbolicTensor;
  const graph = buildChannelGraph(tfl.model({ inputs: input, outputs: out }));
  assert.equal(layer(graph, 'tokens').role, 'passthrough');
  assert.deepEqual(layer(graph, 'tokens').channelGroups, layer(graph, 'conv').channelGroups);
  assert.equal(layer(graph, 'to_vector').role, 'frozen');
  assert.match(layer(graph, 'to_vector').frozenReason ?? '', /has 48 channels where 3 were expected \(Reshape output\)/);
  assert.equal(groupOf(graph, 'conv', 0).prunable, false);
});

test('a shared layer is frozen, or an error naming it', () => {
  const input = tfl.input({ shape: [3], name: 'x' });
  const shared = tfl.layers.dense({ units: 3, name: 'shared' });
  const once = shared.apply(input) as tfl.SymbolicTensor;
  const twice = shared.apply(once) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(twice) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const graph = buildChannelGraph(model);
  assert.equal(layer(graph, 'shared').role, 'frozen');
  assert.match(layer(graph, 'shared').frozenReason ?? '', /shared \(called 2 times\)/);
  assert.equal(graph.groups.filter((g) => g.prunable).length, 0);
  assert.throws(() => buildChannelGraph(model, { unknownLayers: 'error' }), /Layer "shared" \(class Dense\).*shared/);
});

test('a softmax over the channels of a hidden layer freezes them', () => {
  const input = tfl.input({ shape: [3], name: 'x' });
  const hidden = tfl.layers.dense({ units: 4, name: 'hidden' }).apply(input);
  const soft = tfl.layers.softmax({ name: 'attention' }).apply(hidden);
  const mid = tfl.layers.dense({ units: 5, activation: 'softmax', name: 'mid' }).apply(soft);
  const out = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(mid) as tfl.SymbolicTensor;
  const graph = buildChannelGraph(tfl.model({ inputs: input, outputs: out }));
  assert.equal(layer(graph, 'attention').role, 'frozen');
  assert.equal(groupOf(graph, 'hidden', 0).prunable, false);
  assert.match(groupOf(graph, 'hidden', 0).frozenReason ?? '', /frozen layer "attention" \(Softmax\), which applies softmax over the channel axis/);
  assert.equal(layer(graph, 'mid').role, 'producer');
  assert.match(groupOf(graph, 'mid', 0).frozenReason ?? '', /softmax activation of hidden layer "mid"/);
  assert.equal(graph.groups.filter((g) => g.prunable).length, 0);
});

test('elementwise merges tie channel c of every input', () => {
  const input = tfl.input({ shape: [4, 4, 2], name: 'x' });
  const a = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'a' }).apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'b' }).apply(input) as tfl.SymbolicTensor;
  const c = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c' }).apply(input) as tfl.SymbolicTensor;
  const product = tfl.layers.multiply({ name: 'gate' }).apply([a, b]) as tfl.SymbolicTensor;
  const diff = tfl.layers.maximum({ name: 'diff' }).apply([product, c]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalMaxPooling2d({ name: 'gmp' }).apply(diff);
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(pooled) as tfl.SymbolicTensor;
  const graph = buildChannelGraph(tfl.model({ inputs: input, outputs: out }));
  assert.deepEqual(graph.groups.filter((g) => g.prunable).map((g) => g.id), ['gate:0', 'gate:1', 'gate:2']);
  assert.deepEqual(
    groupOf(graph, 'c', 1).members.map((m) => m.layer),
    ['a', 'b', 'c'],
  );
});
