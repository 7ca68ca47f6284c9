import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { saveLayersModelToDir } from '@ippro/graph';
import { removeGroups } from './remove-groups';
import { loadWithStockTfjs } from './testing/stock-load';
import { randomRemoval } from './testing/random-removal';
import { buildConcatModel, buildMiniMobileNetV2, buildSmallVgg, buildTinyVit } from './testing/small-models';
import { maxAbsDifference, predict, preparedModel, sampleInputs, type ModelBuilder } from './testing/surgery-properties';

test.before(async () => {
  await tf.setBackend('cpu');
});

async function assertSavedPrunedModelLoadsInStockTfjs(build: ModelBuilder): Promise<void> {
  const { model, graph } = preparedModel(build, 11);
  const pruned = removeGroups(model, graph, randomRemoval(graph, 11, 0.4));
  const dir = await mkdtemp(join(tmpdir(), 'ippro-surgery-'));
  try {
    await saveLayersModelToDir(pruned, dir);
    assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
    const loaded = await loadWithStockTfjs(dir);
    assert.equal(loaded.countParams(), pruned.countParams());
    const inputs = sampleInputs(pruned, 11);
    assert.equal(maxAbsDifference(predict(loaded, inputs), predict(pruned, inputs)), 0);
    tf.dispose(inputs);
    loaded.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
    pruned.dispose();
    model.dispose();
  }
}

test('a pruned VGG saves as model.json + weights.bin that stock tf.loadLayersModel reads', async () => {
  await assertSavedPrunedModelLoadsInStockTfjs(buildSmallVgg);
});

test('a pruned MobileNetV2-style model round-trips through stock tfjs', async () => {
  await assertSavedPrunedModelLoadsInStockTfjs(buildMiniMobileNetV2);
});

test('a pruned model with SeparableConv2D (depth multiplier 2) round-trips through stock tfjs', async () => {
  await assertSavedPrunedModelLoadsInStockTfjs(buildConcatModel);
});

test('a pruned ViT round-trips through stock tfjs once @ippro/layers is loaded', async () => {
  await assertSavedPrunedModelLoadsInStockTfjs(buildTinyVit);
});
