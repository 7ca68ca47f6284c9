import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { GradStats } from './grad-stats';
import { groupWeights } from './group-weights';
import type { GroupWeights } from './group-weights';
import { mergeGradStats, mergeGradStatsInOrder } from './merge-grad-stats';
import { proscoreFromStats } from './proscore';
import { rankGroups } from './score-table';
import type { Fixture } from './testing/fixture';
import { assertClose, loadFixture, statsOver } from './testing/fixture';

const TOLERANCE = 1e-6;

/** Shards over consecutive ranges ending at the given boundaries, starting at 0. */
async function batchShards(fixture: Fixture, ends: number[]): Promise<GradStats[]> {
  const shards: GradStats[] = [];
  let start = 0;
  for (const end of ends) {
    shards.push(await statsOver(fixture, start, end));
    start = end;
  }
  return shards;
}

function assertSameStats(actual: GradStats, expected: GradStats, weights: GroupWeights): void {
  assert.deepEqual(actual.header, expected.header);
  assert.equal(actual.count, expected.count);
  assertClose(actual.sumLoss, expected.sumLoss, TOLERANCE, 'sumLoss');
  // tfjs reduces each batch in float32, so a sum that cancels (small next to its terms) moves
  // by ~1e-7 of the terms when batches are cut differently: sums are compared relative to the
  // largest sum of their kind; scores (what IPPRO.md §4 requires) relative to themselves.
  const gScale = Math.max(...expected.sumG.flatMap((values) => Array.from(values, Math.abs)));
  const rScale = Math.max(...Array.from(expected.sumR, Math.abs));
  expected.header.groupIds.forEach((id, index) => {
    expected.sumG[index].forEach((value, k) => assertClose(actual.sumG[index][k], value, TOLERANCE, `${id} sumG[${k}]`, gScale));
    assertClose(actual.sumR[index], expected.sumR[index], TOLERANCE, `${id} sumR`, rScale);
  });
  for (const lambda of [0.1, 1]) {
    const merged = proscoreFromStats(actual, weights, { lambda });
    const single = proscoreFromStats(expected, weights, { lambda });
    merged.rows.forEach((row, index) => assertClose(row.score, single.rows[index].score, TOLERANCE, `${row.id} proscore`));
    assert.deepEqual(rankGroups(merged), rankGroups(single));
  }
}

describe('sharded gradient statistics merge to the single-pass result', () => {
  let fixture: Fixture;
  let single: GradStats;
  let weights: GroupWeights;

  before(async () => {
    fixture = await loadFixture();
    single = await statsOver(fixture, 0, 32);
    weights = groupWeights(fixture.model, fixture.graph);
  });

  const shardings: Record<string, number[]> = {
    '2 batch shards': [13, 32],
    '3 batch shards': [5, 21, 32],
    '7 batch shards': [3, 8, 9, 17, 22, 30, 32],
  };
  for (const [name, ends] of Object.entries(shardings)) {
    it(`${name} with uneven ranges`, async () => {
      assertSameStats(mergeGradStatsInOrder(await batchShards(fixture, ends)), single, weights);
    });
  }

  it('2 layer shards (disjoint groups) unite', async () => {
    const dense1 = single.header.groupIds.filter((id) => id.startsWith('dense1'));
    const residual = single.header.groupIds.filter((id) => id.startsWith('residual_add'));
    const merged = mergeGradStats(await statsOver(fixture, 0, 32, { groups: dense1 }), await statsOver(fixture, 0, 32, { groups: residual }));
    assertSameStats(merged, single, weights);
  });

  it('layer shards of batch shards merge in either nesting', async () => {
    const dense1 = single.header.groupIds.filter((id) => id.startsWith('dense1'));
    const residual = single.header.groupIds.filter((id) => id.startsWith('residual_add'));
    const left = mergeGradStats(await statsOver(fixture, 0, 11, { groups: dense1 }), await statsOver(fixture, 11, 32, { groups: dense1 }));
    const right = mergeGradStats(await statsOver(fixture, 0, 20, { groups: residual }), await statsOver(fixture, 20, 32, { groups: residual }));
    assertSameStats(mergeGradStats(left, right), single, weights);
  });

  it('refuses shards that do not fit together', async () => {
    const first = await statsOver(fixture, 0, 8);
    const third = await statsOver(fixture, 16, 24);
    assert.throws(() => mergeGradStats(first, third), /not adjacent/);
    const otherModel = { ...third, header: { ...third.header, modelHash: 'other', sampleRange: [8, 16] as [number, number] } };
    assert.throws(() => mergeGradStats(first, otherModel), /modelHash differs/);
    const partial = await statsOver(fixture, 8, 16, { groups: ['dense1:0', 'residual_add:0'] });
    assert.throws(() => mergeGradStats(first, partial), /share 2 groups but not all/);
    const disjointOtherRange = await statsOver(fixture, 8, 16, { groups: ['dense1:0'] });
    const rest = await statsOver(fixture, 0, 8, { groups: ['dense1:1'] });
    assert.throws(() => mergeGradStats(rest, disjointOtherRange), /different samples/);
  });
});
