import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { applyWithTaps, isUnitMember, unitNodeName } from '@ippro/graph';
import { classificationLoss } from '@ippro/models';
import { accumulateGradStats } from './accumulate-grad-stats';
import { batchNormScaleScores, fisherScores, l1Scores, l2Scores, randomScores, taylorBatchScores, taylorScores } from './baselines';
import { groupWeights } from './group-weights';
import { fpgmScores, groupNormScores, lampScores, layerSets } from './layer-set-criteria';
import type { GradStats } from './grad-stats';
import { assertClose } from './testing/fixture';
import { loadTransformerFixture, transformerBatches, type TransformerFixture } from './testing/transformer-oracle';

/**
 * Large enough that float32 rounding of the loss stays well below the 1e-3 tolerance; LayerNormalization
 * curves the loss enough in an embedding channel's scale that a plain central difference at this
 * step is off by 3e-3, so the difference is extrapolated (Richardson) from steps STEP and STEP / 2.
 */
const STEP = 0.04;

/** Mean loss over all samples with the group's injection channels scaled by s. */
function lossAtScale(fixture: TransformerFixture, groupId: string, scale: number): number {
  const group = fixture.graph.groups.find((candidate) => candidate.id === groupId);
  if (group === undefined) throw new Error(`no group ${groupId}`);
  return tf.tidy(() => {
    const taps = new Map<string, (output: tf.Tensor) => tf.Tensor>();
    for (const member of group.members.filter(isUnitMember)) {
      const layer = member.injectionLayer ?? unitNodeName(member);
      const channels = fixture.graph.layers.find((node) => node.name === layer)?.outputChannels ?? 0;
      const factors = Array.from({ length: channels }, (_, channel) => (channel === member.channel ? scale : 1));
      const previous = taps.get(layer);
      taps.set(layer, (output) => tf.mul(previous ? previous(output) : output, tf.tensor1d(factors)));
    }
    const { inputs, labels } = fixture.data;
    const images = tf.tensor(inputs);
    const output = applyWithTaps(fixture.model, images, taps, { training: false });
    return classificationLoss(Array.isArray(output) ? output[0] : output, tf.tensor1d(labels, 'int32')).dataSync()[0];
  });
}

describe("a transformer's r_g is the derivative of the loss in its injected scale, for every kind", () => {
  let fixture: TransformerFixture;
  let stats: GradStats;

  before(async () => {
    await tf.setBackend('cpu');
    fixture = await loadTransformerFixture();
    const batches = transformerBatches(fixture.data);
    stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'tiny-transformer' });
    tf.dispose(batches.flatMap((batch) => [batch.inputs as tf.Tensor, batch.labels]));
  });

  // A head's attention output; an MLP neuron after its gelu; an embedding channel's three writes into the residual stream.
  for (const groupId of ['block1_attention/heads:0', 'block1_attention/heads:1', 'block1_mlp1:3', 'block1_add1:2', 'block1_add1:6']) {
    it(`matches a central finite difference for ${groupId}`, () => {
      const index = stats.header.groupIds.indexOf(groupId);
      const r = stats.sumR[index] / stats.count;
      const central = (step: number) => (lossAtScale(fixture, groupId, 1 + step) - lossAtScale(fixture, groupId, 1 - step)) / (2 * step);
      const difference = (4 * central(STEP / 2) - central(STEP)) / 3;
      assertClose(difference, r, 1e-3, `${groupId} finite difference`);
    });
  }
});

describe("every criterion scores a transformer's groups", () => {
  it('magnitudes, Taylor, Fisher, group-norm, LAMP, FPGM, batch-norm scale and random give one finite score per group; layer sets are per attention, per MLP layer, and the stream', async () => {
    await tf.setBackend('cpu');
    const fixture = await loadTransformerFixture();
    const batches = transformerBatches(fixture.data);
    const stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'tiny-transformer' });
    tf.dispose(batches.flatMap((batch) => [batch.inputs as tf.Tensor, batch.labels]));
    const weights = groupWeights(fixture.model, fixture.graph);
    const tables = [
      l1Scores(weights), l2Scores(weights), taylorScores(stats, weights), taylorBatchScores(stats, weights), fisherScores(stats, weights),
      groupNormScores(weights), lampScores(weights), fpgmScores(weights), batchNormScaleScores(weights), randomScores(weights, 1),
    ];
    for (const table of tables) {
      assert.deepEqual(table.rows.map((row) => row.id), stats.header.groupIds, table.method);
      assert.ok(table.rows.every((row) => Number.isFinite(row.score)), `${table.method}: finite scores`);
    }
    // No BatchNormalization: network slimming's scale has nothing to read.
    assert.ok(batchNormScaleScores(weights).rows.every((row) => row.score === 0));
    assert.deepEqual(layerSets(weights).map((set) => `${set[0].group.kind}x${set.length}`), ['embeddingx8', 'headx2', 'mlpx16']);
    fixture.model.dispose();
  });
});
