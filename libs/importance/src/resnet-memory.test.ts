import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { buildChannelGraph } from '@ippro/graph';
import { buildResNetCifar } from '@ippro/models';
import { accumulateGradStats } from './accumulate-grad-stats';
import { groupWeights } from './group-weights';
import { proscoreFromStats } from './proscore';
import { useCpuBackend } from './testing/fixture';

describe('ResNet-20 gradient statistics', () => {
  it('compute on a few random images without leaking tensors', async () => {
    await useCpuBackend();
    // 16x16 images keep the plain-JS cpu backward pass to about two seconds; the topology
    // (and so every group and injection point) is that of the 32x32 CIFAR model.
    const model = buildResNetCifar({ depth: 20, seed: 3, inputShape: [16, 16, 3] });
    const graph = buildChannelGraph(model);
    const images = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 11);
    const labels = tf.tensor1d([3, 7], 'int32');
    const tensors = tf.memory().numTensors;
    const stats = await accumulateGradStats(model, graph, [{ inputs: images, labels }], { datasetId: 'random' });
    const table = proscoreFromStats(stats, groupWeights(model, graph));
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(stats.count, 2);
    assert.equal(table.rows.length, graph.groups.filter((group) => group.prunable).length);
    assert.ok(table.rows.every((row) => Number.isFinite(row.score) && row.score >= 0));
    tf.dispose([images, labels]);
    model.dispose();
  });
});
