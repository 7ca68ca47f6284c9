import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { buildChannelGraph, type ChannelGraph } from '@ippro/graph';
import { removeGroups } from './remove-groups';
import { zeroGroups } from './testing/zero-groups';
import { maxAbsDifference, predict, sampleInputs } from './testing/surgery-properties';

// Layers the graph freezes (unknown classes, shared layers) keep their weights through surgery.

test.before(async () => {
  await tf.setBackend('cpu');
});

function prunableGroupsOf(graph: ChannelGraph, layer: string): number[] {
  const node = graph.layers.find((candidate) => candidate.name === layer);
  assert.ok(node, `layer ${layer} is in the graph`);
  return [...new Set(node.channelGroups)].filter((index) => graph.groups[index].prunable);
}

function modelWithPRelu(): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 2], name: 'image' });
  const first = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'first' }).apply(input) as tfl.SymbolicTensor;
  const prelu = tfl.layers.prelu({ name: 'prelu' }).apply(first) as tfl.SymbolicTensor;
  const second = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'second' }).apply(prelu) as tfl.SymbolicTensor;
  const relu = tfl.layers.activation({ activation: 'relu', name: 'relu' }).apply(second) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten({ name: 'flatten' }).apply(relu) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 2, name: 'out' }).apply(flat) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'with_prelu' });
}

test('a frozen layer with weights is copied unchanged; an unfrozen one it cannot slice is refused', () => {
  const model = modelWithPRelu();
  const graph = buildChannelGraph(model);
  const prunable = prunableGroupsOf(graph, 'second');
  assert.ok(prunable.length > 1, 'the conv after the frozen PReLU has prunable groups');
  const pruned = removeGroups(model, graph, [prunable[0]]);
  assert.deepEqual(pruned.getLayer('prelu').getWeights()[0].arraySync(), model.getLayer('prelu').getWeights()[0].arraySync());
  pruned.dispose();
  const unfrozen: ChannelGraph = {
    ...graph,
    layers: graph.layers.map((node) => (node.name === 'prelu' ? { ...node, role: 'passthrough' } : node)),
  };
  assert.throws(() => removeGroups(model, unfrozen, []), /layer 'prelu' \(PReLU\) has weights surgery cannot slice/);
  model.dispose();
});

/** A conv applied to two tensors (shared, so frozen), summed, then a prunable conv. */
function modelWithSharedConv(): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 2], name: 'image' });
  const conv = (name: string, filters: number): tfl.layers.Layer => tfl.layers.conv2d({ filters, kernelSize: 1, name });
  const left = conv('left', 3).apply(input) as tfl.SymbolicTensor;
  const right = conv('right', 3).apply(input) as tfl.SymbolicTensor;
  const shared = conv('shared', 3);
  const sum = tfl.layers.add({ name: 'sum' }).apply([shared.apply(left), shared.apply(right)] as tfl.SymbolicTensor[]);
  const head = conv('head', 4).apply(sum as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(head) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 2, name: 'out' }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'with_shared_conv' });
}

test('a shared layer is frozen and copied whole while other groups are removed exactly', () => {
  const model = modelWithSharedConv();
  const graph = buildChannelGraph(model);
  assert.deepEqual(prunableGroupsOf(graph, 'shared'), []);
  const removed = new Set(prunableGroupsOf(graph, 'head').slice(0, 2));
  assert.equal(removed.size, 2, 'the conv after the shared layer has prunable groups');
  zeroGroups(model, graph, removed);
  const pruned = removeGroups(model, graph, removed);
  assert.deepEqual(pruned.getLayer('shared').getWeights()[0].arraySync(), model.getLayer('shared').getWeights()[0].arraySync());
  const inputs = sampleInputs(model, 1);
  assert.ok(maxAbsDifference(predict(model, inputs), predict(pruned, inputs)) <= 1e-5);
  tf.dispose(inputs);
  pruned.dispose();
  model.dispose();
});
