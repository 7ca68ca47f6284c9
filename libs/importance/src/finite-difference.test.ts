import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { applyWithTaps } from '@ippro/graph';
import { classificationLoss } from '@ippro/models';
import { accumulateGradStats } from './accumulate-grad-stats';
import type { GradStats } from './grad-stats';
import type { Fixture } from './testing/fixture';
import { assertClose, disposeBatches, loadFixture, makeBatches } from './testing/fixture';

/** Large enough that float32 rounding of the loss stays well below the 1e-3 tolerance. */
const STEP = 0.03;

/** Mean loss over all samples with the group's injection channels scaled by s. */
function lossAtScale(fixture: Fixture, groupId: string, scale: number): number {
  const group = fixture.graph.groups.find((candidate) => candidate.id === groupId);
  if (group === undefined) {
    throw new Error(`no group ${groupId}`);
  }
  return tf.tidy(() => {
    const taps = new Map<string, (output: tf.Tensor) => tf.Tensor>();
    for (const member of group.members.filter((candidate) => candidate.kind !== 'batchnorm')) {
      const layer = member.injectionLayer ?? member.layer;
      const channels = fixture.graph.layers.find((node) => node.name === layer)?.outputChannels ?? 0;
      const factors = Array.from({ length: channels }, (_, channel) => (channel === member.channel ? scale : 1));
      const previous = taps.get(layer);
      taps.set(layer, (output) => tf.mul(previous ? previous(output) : output, tf.tensor1d(factors)));
    }
    const inputs = tf.tensor2d(fixture.data.inputs);
    const output = applyWithTaps(fixture.model, inputs, taps, { training: false });
    const probabilities = Array.isArray(output) ? output[0] : output;
    return classificationLoss(probabilities, tf.tensor1d(fixture.data.labels, 'int32')).dataSync()[0];
  });
}

describe('r_g is the derivative of the loss in the injected scale s_g', () => {
  let fixture: Fixture;
  let stats: GradStats;

  before(async () => {
    fixture = await loadFixture();
    const batches = makeBatches(fixture.data, 0, fixture.data.inputs.length, fixture.data.batchSize);
    stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'proscore-mlp' });
    disposeBatches(batches);
  });

  for (const groupId of ['dense1:0', 'residual_add:3', 'residual_add:1']) {
    it(`matches a central finite difference for ${groupId}`, () => {
      const index = stats.header.groupIds.indexOf(groupId);
      const r = stats.sumR[index] / stats.count;
      const difference = (lossAtScale(fixture, groupId, 1 + STEP) - lossAtScale(fixture, groupId, 1 - STEP)) / (2 * STEP);
      assertClose(difference, r, 1e-3, `${groupId} finite difference`);
    });
  }
});
