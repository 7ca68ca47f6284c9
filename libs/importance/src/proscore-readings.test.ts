import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { GradStats } from './grad-stats';
import { groupWeights } from './group-weights';
import type { GroupWeights } from './group-weights';
import { proscoreFromStats } from './proscore';
import { proscoreTrajectory } from './proscore-trajectory';
import type { TrajectoryOptions } from './proscore-trajectory';
import { rankGroups } from './score-table';
import type { Fixture } from './testing/fixture';
import { assertClose, disposeBatches, loadFixture, makeBatches, statsOver } from './testing/fixture';

describe('PROscore readings', () => {
  let fixture: Fixture;
  let stats: GradStats;
  let weights: GroupWeights;

  async function trajectory(options: TrajectoryOptions, samples = 32, batchNormMode?: 'batch'): Promise<ReturnType<typeof proscoreTrajectory>> {
    const batches = makeBatches(fixture.data, 0, samples, fixture.data.batchSize);
    try {
      return await proscoreTrajectory(fixture.model, fixture.graph, batches, { ...options, ...(batchNormMode ? { batchNormMode } : {}) });
    } finally {
      disposeBatches(batches);
    }
  }

  before(async () => {
    fixture = await loadFixture();
    stats = await statsOver(fixture, 0, 32);
    weights = groupWeights(fixture.model, fixture.graph);
  });

  it("'descending' negates every score, so the highest PROscore is removed first", () => {
    const ascending = proscoreFromStats(stats, weights);
    const descending = proscoreFromStats(stats, weights, { order: 'descending' });
    assert.equal(ascending.order, 'ascending');
    assert.equal(descending.order, 'descending');
    descending.rows.forEach((row, index) => assert.equal(row.score, -ascending.rows[index].score));
    // The scores are distinct, so the order is exactly reversed; the dead group (0) goes last.
    assert.deepEqual(rankGroups(descending), [...rankGroups(ascending)].reverse());
    assert.equal(rankGroups(descending).at(-1), 'dense1:3');
  });

  it('one trajectory step without decay is the PROscore of the first batch at lambda = learning rate', async () => {
    const virtual = proscoreFromStats(await statsOver(fixture, 0, 8), weights, { lambda: 0.3 });
    const real = await trajectory({ steps: 1, learningRate: 0.3 });
    real.rows.forEach((row, index) => assertClose(row.score, virtual.rows[index].score, 1e-6, row.id));
  });

  it('leaves the model exactly as it was and holds no tensors afterwards, in either batch-norm mode', async () => {
    const before = fixture.model.getWeights().map((weight) => weight.dataSync().slice());
    const tensors = tf.memory().numTensors;
    await trajectory({ steps: 3, learningRate: 0.05, weightDecay: 5e-4 });
    await trajectory({ steps: 2, learningRate: 0.05 }, 32, 'batch');
    assert.equal(tf.memory().numTensors, tensors);
    assert.deepEqual(fixture.model.getWeights().map((weight) => weight.dataSync().slice()), before);
  });

  it('refuses what it cannot compute, naming why', async () => {
    await assert.rejects(trajectory({ steps: 5, learningRate: 0.05 }), /takes 5 steps, one batch each, but the batch stream ended after 4/);
    await assert.rejects(trajectory({ steps: 0, learningRate: 0.05 }), /steps must be a positive integer, got 0/);
    await assert.rejects(trajectory({ steps: 1, learningRate: 0.05, momentum: 1 }), /momentum must be a number in \[0, 1\), got 1/);
    assert.throws(() => proscoreFromStats(stats, weights, { reading: 'trajectory' }), /reading 'trajectory' takes real optimizer steps over an ordered batch stream \(proscoreTrajectory\); it cannot be computed from gradient statistics, which shard by batch/);
    const withBias = groupWeights(fixture.model, fixture.graph, { includeBias: true });
    assert.throws(() => proscoreFromStats(stats, withBias, { weightDecay: 5e-4 }), /the training objective decays kernels only, but F_g holds biases/);
    assert.throws(() => proscoreFromStats(stats, weights, { weightDecay: -1 }), /weightDecay must be a finite number >= 0, got -1/);
    assert.throws(() => proscoreFromStats(stats, weights, { order: 'sideways' as 'ascending' }), /order must be 'ascending' or 'descending', got 'sideways'/);
  });
});
