import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildChannelGraph } from '@ippro/graph';
import { buildResNetCifar } from '@ippro/models';
import { removeGroups } from './remove-groups';
import { survivingGroupIds } from './surviving-groups';
import { randomRemoval } from './testing/random-removal';
import { buildConcatModel, buildMiniMobileNetV2, buildTinyVit } from './testing/small-models';
import { preparedModel, weightValues, type ModelBuilder } from './testing/surgery-properties';

test.before(async () => {
  await tf.setBackend('cpu');
});

/** Pruning in two rounds (second round by translated ids) equals pruning once by the union. */
function assertTwoRoundsEqualOne(build: ModelBuilder, seed: number): void {
  const { model, graph } = preparedModel(build, seed);
  const all = [...randomRemoval(graph, seed, 0.5)];
  const firstRound = all.filter((_, position) => position % 2 === 0);
  const secondRound = all.filter((_, position) => position % 2 === 1);
  const afterFirst = removeGroups(model, graph, firstRound);
  const graphAfterFirst = buildChannelGraph(afterFirst);
  const renamed = survivingGroupIds(graph, firstRound, graphAfterFirst);
  assert.equal(new Set(renamed.values()).size, renamed.size, 'surviving groups map one-to-one');
  assert.equal(renamed.size, graphAfterFirst.groups.length, 'every group of the pruned graph has an origin');
  const secondIds = secondRound.map((index) => renamed.get(graph.groups[index].id) as string);
  const twoRounds = removeGroups(afterFirst, graphAfterFirst, secondIds);
  const oneRound = removeGroups(model, graph, all);
  assert.deepEqual(twoRounds.getConfig(), oneRound.getConfig());
  assert.deepEqual(weightValues(twoRounds), weightValues(oneRound));
  for (const pruned of [afterFirst, twoRounds, oneRound, model]) pruned.dispose();
}

test('surviving group ids let a second round prune the pruned model (MobileNetV2-style)', () => {
  assertTwoRoundsEqualOne(buildMiniMobileNetV2, 1);
});

test('surviving group ids through Concatenate, SeparableConv2D and Flatten', () => {
  assertTwoRoundsEqualOne(buildConcatModel, 2);
});

test('surviving group ids through the residual stages of ResNet-20', () => {
  assertTwoRoundsEqualOne((seed) => buildResNetCifar({ depth: 20, seed, inputShape: [8, 8, 3] }), 3);
});

test('surviving group ids through the heads, MLPs and residual stream of a ViT', () => {
  assertTwoRoundsEqualOne(buildTinyVit, 4);
});

test('a lone group id string is refused rather than read as characters', () => {
  const { model, graph } = preparedModel(buildConcatModel, 4);
  const afterFirst = removeGroups(model, graph, []);
  assert.throws(() => survivingGroupIds(graph, graph.groups[5].id, buildChannelGraph(afterFirst)), /single string/);
  afterFirst.dispose();
  model.dispose();
});
