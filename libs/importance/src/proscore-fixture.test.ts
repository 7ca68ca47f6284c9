import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { accumulateGradStats } from './accumulate-grad-stats';
import type { GradStats } from './grad-stats';
import { groupWeights } from './group-weights';
import type { GroupWeights } from './group-weights';
import { proscoreFromStats } from './proscore';
import { batchNormScaleScores, l1Scores, l2Scores, randomScores, taylorScores } from './baselines';
import { rankGroups } from './score-table';
import type { ScoreTable } from './score-table';
import type { Fixture } from './testing/fixture';
import { assertClose, disposeBatches, loadFixture, makeBatches } from './testing/fixture';

const TOLERANCE = 1e-5;

function scoreOf(table: ScoreTable, id: string): number {
  const row = table.rows.find((candidate) => candidate.id === id);
  assert.ok(row, `group ${id} missing from the ${table.method} table`);
  return row.score;
}

describe('gradient statistics and scores on the proscore-mlp oracle', () => {
  let fixture: Fixture;
  let stats: GradStats;
  let weights: GroupWeights;

  before(async () => {
    fixture = await loadFixture();
    const batches = makeBatches(fixture.data, 0, fixture.data.inputs.length, fixture.data.batchSize);
    stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'proscore-mlp' });
    disposeBatches(batches);
    weights = groupWeights(fixture.model, fixture.graph);
  });

  it('scores exactly the oracle groups, with the oracle member order', () => {
    assert.deepEqual(stats.header.groupIds, fixture.expected.groups.map((group) => group.id));
    for (const expected of fixture.expected.groups) {
      const entry = weights.groups.find((candidate) => candidate.group.id === expected.id);
      const units = entry?.group.members.filter((member) => member.kind !== 'batchnorm').map((m) => `${m.layer}/${m.channel}`);
      assert.deepEqual(units, expected.members.filter((name) => name.startsWith('dense')));
    }
    assert.equal(stats.count, 32);
    assert.deepEqual(stats.header.sampleRange, [0, 32]);
  });

  it('reproduces the loss and the softmax probabilities', () => {
    assertClose(stats.sumLoss / stats.count, fixture.expected.loss, TOLERANCE, 'loss');
    const probabilities = tf.tidy(() => (fixture.model.predict(tf.tensor2d(fixture.data.inputs)) as tf.Tensor).dataSync());
    fixture.expected.probs.forEach((value, index) => assertClose(probabilities[index], value, TOLERANCE, `probs[${index}]`));
  });

  it('reproduces ||F||, G, r and dL/dD per group', () => {
    const table = proscoreFromStats(stats, weights, { lambda: 1 });
    fixture.expected.groups.forEach((expected, groupIndex) => {
      const row = table.rows[groupIndex];
      assert.equal(row.id, expected.id);
      assertClose(row.fNorm ?? NaN, expected.F_norm, TOLERANCE, `${expected.id} F_norm`);
      const g = stats.sumG[groupIndex].map((sum) => sum / stats.count);
      assert.equal(g.length, expected.G.length, `${expected.id} G length`);
      // Entries are compared relative to the vector's largest entry: some are exactly 0, and
      // float32 backprop leaves the smallest ones about 1e-5 off on their own scale.
      const scale = Math.max(...expected.G.map(Math.abs));
      expected.G.forEach((value, k) => assertClose(g[k], value, TOLERANCE, `${expected.id} G[${k}]`, scale));
      assertClose(row.r ?? NaN, expected.r, TOLERANCE, `${expected.id} r`, 1e-12);
      if (expected.dL_dD === null) {
        assert.equal(row.dLdD, null);
      } else {
        assertClose(row.dLdD ?? NaN, expected.dL_dD, TOLERANCE, `${expected.id} dL/dD`);
      }
    });
  });

  it('reproduces PROscore at lambda 0.1 and 1.0', () => {
    for (const lambda of ['0.1', '1.0']) {
      const table = proscoreFromStats(stats, weights, { lambda: Number(lambda) });
      for (const expected of fixture.expected.groups) {
        assertClose(scoreOf(table, expected.id), expected.proscore[lambda], TOLERANCE, `${expected.id} proscore(${lambda})`);
      }
    }
  });

  it('reproduces the l1, l2, taylor and bn_scale baselines', () => {
    const tables = { l1: l1Scores(weights), l2: l2Scores(weights), taylor: taylorScores(stats, weights), bn_scale: batchNormScaleScores(weights) };
    for (const expected of fixture.expected.groups) {
      for (const [name, table] of Object.entries(tables)) {
        const value = expected[name as keyof typeof tables];
        assertClose(scoreOf(table, expected.id), value, TOLERANCE, `${expected.id} ${name}`, 1e-12);
      }
    }
  });

  it('ranks the dead group first with score 0', () => {
    const table = proscoreFromStats(stats, weights, { lambda: 0.1 });
    assert.equal(scoreOf(table, 'dense1:3'), 0);
    assert.equal(rankGroups(table)[0], 'dense1:3');
  });

  it('gives seeded, order-independent random scores', () => {
    const first = randomScores(weights, 7);
    assert.deepEqual(first, randomScores(weights, 7));
    assert.notDeepEqual(first.rows.map((row) => row.score), randomScores(weights, 8).rows.map((row) => row.score));
    assert.ok(first.rows.every((row) => row.score >= 0 && row.score < 1));
  });

  it('excludes unprunable groups from every table', () => {
    const prunable = new Set(fixture.graph.groups.filter((group) => group.prunable).map((group) => group.id));
    assert.ok(l1Scores(weights).rows.every((row) => prunable.has(row.id)));
    assert.ok(fixture.graph.groups.some((group) => !group.prunable), 'the output layer has unprunable groups');
  });
});
