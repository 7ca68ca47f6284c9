import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildChannelGraph, type ChannelGraph } from '@ippro/graph';
import { removeGroups } from './remove-groups';
import { SurgeryError } from './surgery-error';
import { buildConcatModel, buildSmallVgg } from './testing/small-models';
import { preparedModel } from './testing/surgery-properties';

test.before(async () => {
  await tf.setBackend('cpu');
});

function groupsOfLayer(graph: ChannelGraph, layer: string): number[] {
  const node = graph.layers.find((candidate) => candidate.name === layer);
  assert.ok(node, `layer ${layer} is in the graph`);
  return [...new Set(node.channelGroups)];
}

test('an unprunable group is refused with its id and frozen reason', () => {
  const { model, graph } = preparedModel(buildSmallVgg, 1);
  const frozen = graph.groups.find((group) => !group.prunable);
  assert.ok(frozen?.frozenReason, 'the VGG has a frozen group with a reason');
  assert.throws(
    () => removeGroups(model, graph, [frozen.index]),
    (error: Error) =>
      error instanceof SurgeryError && error.message.includes(frozen.id) && error.message.includes(frozen.frozenReason as string),
  );
  model.dispose();
});

test('unknown group ids and out-of-range indices are refused by name', () => {
  const { model, graph } = preparedModel(buildSmallVgg, 1);
  assert.throws(() => removeGroups(model, graph, ['no_such_layer:0']), /unknown group id 'no_such_layer:0'/);
  assert.throws(() => removeGroups(model, graph, [graph.groups.length]), /group index \d+ is not an integer in \[0, \d+\)/);
  assert.throws(() => removeGroups(model, graph, [0.5]), /group index 0.5/);
  model.dispose();
});

test('group ids select the same groups as indices', () => {
  const { model, graph } = preparedModel(buildSmallVgg, 1);
  const chosen = groupsOfLayer(graph, 'block2a_conv').slice(0, 3);
  const byIndex = removeGroups(model, graph, new Set(chosen));
  const byId = removeGroups(model, graph, chosen.map((index) => graph.groups[index].id));
  assert.deepEqual(byId.getConfig(), byIndex.getConfig());
  assert.equal(byIndex.getLayer('block2a_conv').getConfig()['filters'], 12 - 3);
  byIndex.dispose();
  byId.dispose();
  model.dispose();
});

test('removing every channel of a layer is refused, naming the layer', () => {
  const { model, graph } = preparedModel(buildSmallVgg, 1);
  const all = groupsOfLayer(graph, 'block1b_conv');
  assert.throws(() => removeGroups(model, graph, all), /layer 'block1b_conv' with no channels/);
  model.dispose();
});

test('a graph of another model is refused', () => {
  const { model } = preparedModel(buildSmallVgg, 1);
  const other = buildConcatModel(1);
  const graph = buildChannelGraph(other);
  assert.throws(() => removeGroups(model, graph, []), SurgeryError);
  other.dispose();
  model.dispose();
});

test('surgery leaks no tensors, whether it succeeds or fails', () => {
  const { model, graph } = preparedModel(buildConcatModel, 1);
  const before = tf.memory().numTensors;
  const removed = groupsOfLayer(graph, 'separable').slice(0, 2);
  removeGroups(model, graph, removed).dispose();
  assert.throws(() => removeGroups(model, graph, groupsOfLayer(graph, 'separable')), SurgeryError);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
