import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { modelCost, type ChannelGraph, type GroupKind } from '@ippro/graph';
import { MultiHeadAttention } from '@ippro/layers';
import { removeGroups } from './remove-groups';
import { keptStatisticsReference } from './testing/kept-statistics-reference';
import { randomRemoval } from './testing/random-removal';
import { buildOddAttentionNet, buildTinyVit, buildTokenEmbeddingNet } from './testing/small-models';
import {
  assertEmptyRemovalIsIdentity,
  assertRandomRemovalsMatchCost,
  maxAbsDifference,
  predict,
  preparedModel,
  sampleInputs,
  type ModelBuilder,
} from './testing/surgery-properties';
import { zeroGroups } from './testing/zero-groups';

const OUTPUT_TOLERANCE = 1e-5;

test.before(async () => {
  await tf.setBackend('cpu');
});

/** A seeded random removal restricted to some kinds (every layer keeps a channel, every attention a head). */
function removalOf(graph: ChannelGraph, seed: number, kinds: readonly GroupKind[]): Set<number> {
  const removed = randomRemoval(graph, seed, 0.4);
  return new Set([...removed].filter((index) => kinds.includes(graph.groups[index].kind)));
}

/** Zeroes the groups, removes them, and returns the outputs of the zeroed, the reference and the pruned model. */
function zeroedAndPruned(build: ModelBuilder, seed: number, kinds: readonly GroupKind[]) {
  const { model, graph } = preparedModel(build, seed);
  const removed = removalOf(graph, seed, kinds);
  assert.ok(removed.size > 0, `seed ${seed}: the removal removes something`);
  zeroGroups(model, graph, removed);
  const pruned = removeGroups(model, graph, removed);
  const reference = keptStatisticsReference(model, graph, removed);
  const inputs = sampleInputs(model, seed);
  const outputs = { zeroed: predict(model, inputs), reference: predict(reference, inputs), pruned: predict(pruned, inputs) };
  tf.dispose(inputs);
  [model, pruned, reference].forEach((m) => m.dispose());
  return outputs;
}

for (const [name, build] of [['the tiny ViT', buildTinyVit], ['attention with valueDim != keyDim, an output width, no bias', buildOddAttentionNet]] as const) {
  test(`${name}: removing zeroed heads and MLP neurons leaves the outputs unchanged`, () => {
    for (const seed of [1, 2, 3]) {
      const { zeroed, pruned } = zeroedAndPruned(build, seed, ['head', 'mlp']);
      const difference = maxAbsDifference(pruned, zeroed);
      assert.ok(difference <= OUTPUT_TOLERANCE, `seed ${seed}: outputs moved by ${difference}`);
    }
  });

  test(`${name}: removing embedding channels equals the model with those channels gone from every LayerNormalization's statistics`, () => {
    for (const seed of [1, 2, 3]) {
      for (const kinds of [['embedding'], ['embedding', 'head', 'mlp']] as const) {
        const { zeroed, reference, pruned } = zeroedAndPruned(build, seed, kinds);
        const difference = maxAbsDifference(pruned, reference);
        assert.ok(difference <= OUTPUT_TOLERANCE, `seed ${seed}, ${kinds.join('+')}: outputs moved by ${difference} from the reference`);
        // Zeroing is not removing: a zero channel still counts in a LayerNormalization's mean and variance.
        assert.ok(maxAbsDifference(pruned, zeroed) > 1e-3, `seed ${seed}, ${kinds.join('+')}: zeroed and pruned should differ`);
      }
    }
  });

  test(`${name}: removing nothing is the identity`, () => {
    assertEmptyRemovalIsIdentity(build, 4);
  });

  test(`${name}: random removals of every kind give a valid model whose size modelCost predicts`, () => {
    assertRandomRemovalsMatchCost(build, [5, 6, 7, 8], 0.5);
  });
}

test('removing heads lowers numHeads; embedding channels narrow every layer above them', () => {
  const { model, graph } = preparedModel(buildTinyVit, 9);
  const ids = ['block1_attention/heads:1', 'block2_attention/heads:0', 'block1_mlp1:3', 'block1_add1:2', 'block1_add1:5'];
  const pruned = removeGroups(model, graph, ids);
  const attention = pruned.getLayer('block1_attention') as MultiHeadAttention;
  assert.equal(attention.numHeads, 1);
  assert.deepEqual(attention.getWeights().map((weight) => weight.shape), [[6, 1, 4], [1, 4], [6, 1, 4], [1, 4], [6, 1, 4], [1, 4], [1, 4, 6], [6]]);
  assert.deepEqual(pruned.getLayer('patch_tokens').getConfig()['targetShape'], [4, 6]);
  assert.deepEqual(pruned.getLayer('position_embedding').getWeights()[0].shape, [5, 6]);
  assert.deepEqual(pruned.getLayer('class_token').getWeights()[0].shape, [6]);
  assert.deepEqual(pruned.getLayer('block1_mlp1').getWeights()[0].shape, [6, 11]);
  assert.deepEqual(pruned.getLayer('block1_mlp2').getWeights()[0].shape, [11, 6]);
  assert.deepEqual(pruned.getLayer('final_norm').getWeights()[0].shape, [6]);
  assert.deepEqual(pruned.getLayer('classifier').getWeights()[0].shape, [6, 3]);
  assert.equal(pruned.countParams(), modelCost(graph, new Set(ids.map((id) => graph.groups.findIndex((group) => group.id === id)))).params);
  pruned.dispose();
  model.dispose();
});

test('an Embedding table loses the columns of removed embedding channels', () => {
  const { model, graph } = preparedModel(buildTokenEmbeddingNet, 10);
  assert.equal(graph.layers.find((node) => node.name === 'embed')?.role, 'producer');
  const removed = new Set(graph.groups.filter((group) => group.prunable && group.kind === 'embedding').slice(0, 3).map((group) => group.index));
  zeroGroups(model, graph, removed);
  const pruned = removeGroups(model, graph, removed);
  const reference = keptStatisticsReference(model, graph, removed);
  const ids = tf.tensor2d([[0, 3, 7, 11, 2], [5, 5, 1, 9, 4]], undefined, 'int32');
  assert.ok(maxAbsDifference(predict(pruned, ids), predict(reference, ids)) <= OUTPUT_TOLERANCE);
  assert.deepEqual(pruned.getLayer('embed').getWeights()[0].shape, [12, 5]);
  assert.equal(pruned.countParams(), modelCost(graph, removed).params);
  ids.dispose();
  [model, pruned, reference].forEach((m) => m.dispose());
});
