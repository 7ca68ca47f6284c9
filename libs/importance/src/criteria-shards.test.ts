import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { fisherScores, taylorBatchScores, taylorScores } from './baselines';
import type { GradStats } from './grad-stats';
import { groupWeights } from './group-weights';
import type { GroupWeights } from './group-weights';
import { mergeGradStats, mergeGradStatsInOrder } from './merge-grad-stats';
import { proscoreFromStats } from './proscore';
import type { ScoreTable } from './score-table';
import { rankGroups } from './score-table';
import type { Fixture } from './testing/fixture';
import { assertClose, loadFixture, statsOver } from './testing/fixture';

/** Shards are batch ranges at one batch size, so every batch is computed exactly as in one pass. */
const TOLERANCE = 1e-9;

/** Every criterion that reads gradient statistics; the others never see them. */
const CRITERIA: Record<string, (stats: GradStats, weights: GroupWeights) => ScoreTable> = {
  'proscore lambda 0.1': (stats, weights) => proscoreFromStats(stats, weights, { lambda: 0.1 }),
  'proscore lambda 1': (stats, weights) => proscoreFromStats(stats, weights, { lambda: 1 }),
  'proscore per-batch': (stats, weights) => proscoreFromStats(stats, weights, { reading: 'per-batch' }),
  'proscore per-batch with weight decay': (stats, weights) => proscoreFromStats(stats, weights, { reading: 'per-batch', weightDecay: 5e-4 }),
  'proscore with weight decay': (stats, weights) => proscoreFromStats(stats, weights, { weightDecay: 5e-4 }),
  'proscore descending': (stats, weights) => proscoreFromStats(stats, weights, { order: 'descending' }),
  taylor: taylorScores,
  'taylor-batch': taylorBatchScores,
  fisher: fisherScores,
};

function assertSameVectors(actual: readonly Float64Array[], expected: readonly Float64Array[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: groups`);
  expected.forEach((values, group) => {
    assert.equal(actual[group].length, values.length, `${what}[${group}]: length`);
    values.forEach((value, k) => assertClose(actual[group][k], value, TOLERANCE, `${what}[${group}][${k}]`, 1e-300));
  });
}

/** Sums to 1e-9 relative, and every criterion's scores to 1e-9 relative with the same ranking. */
function assertSameAsOnePass(merged: GradStats, single: GradStats, weights: GroupWeights): void {
  assert.deepEqual(merged.header, single.header);
  assert.equal(merged.count, single.count);
  assertClose(merged.sumLoss, single.sumLoss, TOLERANCE, 'sumLoss');
  assertSameVectors(merged.sumG, single.sumG, 'sumG');
  assertSameVectors([merged.sumR], [single.sumR], 'sumR');
  assert.ok(merged.batches && single.batches, 'both keep their per-batch statistics');
  assert.deepEqual(merged.batches.sizes, single.batches.sizes);
  for (const field of ['fDotG', 'gSquaredNorm', 'r', 'sumSquaredG'] as const) {
    assertSameVectors(merged.batches[field], single.batches[field], field);
  }
  for (const [name, criterion] of Object.entries(CRITERIA)) {
    const fromShards = criterion(merged, weights);
    const fromOnePass = criterion(single, weights);
    fromOnePass.rows.forEach((row, index) => assertClose(fromShards.rows[index].score, row.score, TOLERANCE, `${name} ${row.id}`, 1e-300));
    assert.deepEqual(rankGroups(fromShards), rankGroups(fromOnePass), `${name} ranking`);
  }
}

describe('every gradient criterion is the same from 1, 2 or 4 batch shards and 1 or 2 layer shards', () => {
  let fixture: Fixture;
  let weights: GroupWeights;
  let single: GradStats;

  /** Shards of `shards` equal batch ranges, merged in shard order. */
  async function batchSharded(shards: number, groups?: string[]): Promise<GradStats> {
    const length = fixture.data.inputs.length / shards;
    const parts: GradStats[] = [];
    for (let shard = 0; shard < shards; shard++) {
      parts.push(await statsOver(fixture, shard * length, (shard + 1) * length, groups ? { groups } : {}));
    }
    return mergeGradStatsInOrder(parts);
  }

  before(async () => {
    fixture = await loadFixture();
    weights = groupWeights(fixture.model, fixture.graph);
    single = await statsOver(fixture, 0, fixture.data.inputs.length);
  });

  for (const shards of [2, 4]) {
    it(`${shards} batch shards`, async () => {
      assertSameAsOnePass(await batchSharded(shards), single, weights);
    });
  }

  for (const shards of [1, 2, 4]) {
    it(`2 layer shards, each of ${shards} batch shard(s)`, async () => {
      const dense1 = single.header.groupIds.filter((id) => id.startsWith('dense1'));
      const residual = single.header.groupIds.filter((id) => id.startsWith('residual_add'));
      assertSameAsOnePass(mergeGradStats(await batchSharded(shards, dense1), await batchSharded(shards, residual)), single, weights);
    });
  }
});
