import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ChannelGroup } from '@ippro/graph';
import type { GroupWeightEntry, GroupWeights } from './group-weights';
import { fpgmScores, groupNormScores, lampScores, layerSets } from './layer-set-criteria';
import { rankGroups } from './score-table';

interface Spec {
  /** The unit layers of the group (one unit per layer, channel = the group's position). */
  layers: string[];
  f: number[];
  gammas?: number[];
  consumer?: number;
}

function weightsOf(specs: Spec[]): GroupWeights {
  const groups: GroupWeightEntry[] = specs.map((spec, index) => {
    const group: ChannelGroup = {
      id: `${spec.layers[0]}:${index}`,
      index,
      kind: 'channel',
      members: spec.layers.map((layer) => ({ layer, channel: index, kind: 'kernel', injectionLayer: layer })),
      channels: spec.layers.map((layer) => ({ layer, channel: index })),
      prunable: true,
    };
    return { group, f: Float64Array.from(spec.f), batchNormGammas: Float64Array.from(spec.gammas ?? []), consumerSquaredNorm: spec.consumer ?? 0 };
  });
  return { modelName: 'synthetic', includeBias: false, groups };
}

function scores(table: { rows: { score: number }[] }): number[] {
  return table.rows.map((row) => row.score);
}

describe('per-layer criteria: group-norm, lamp, fpgm', () => {
  it('layer sets are the groups with exactly the same unit layers', () => {
    const weights = weightsOf([{ layers: ['a'], f: [1] }, { layers: ['a', 'b'], f: [1, 1] }, { layers: ['a'], f: [2] }, { layers: ['a', 'b'], f: [0, 1] }]);
    assert.deepEqual(layerSets(weights).map((set) => set.map((entry) => entry.group.index)), [[0, 2], [1, 3]]);
  });

  it('group-norm divides the coupled squared norm (F, gamma, consumers) by its mean over the layer set', () => {
    // Coupled squares: 1 + 4 + 2 = 7 and 4 + 0 + 1 = 5 (mean 6); the other set: 9 and 0 (mean 4.5).
    const weights = weightsOf([
      { layers: ['a'], f: [1], gammas: [2], consumer: 2 },
      { layers: ['a'], f: [2], gammas: [0], consumer: 1 },
      { layers: ['b'], f: [3] },
      { layers: ['b'], f: [0] },
    ]);
    assert.deepEqual(scores(groupNormScores(weights)), [7 / 6, 5 / 6, 2, 0]);
  });

  it('lamp: ascending within the set, each score over the sum of itself and every larger one; ties by graph order', () => {
    const weights = weightsOf([{ layers: ['a'], f: [2] }, { layers: ['a'], f: [1] }, { layers: ['a'], f: [1] }, { layers: ['b'], f: [5] }]);
    // Squares 4, 1, 1: index 1 goes before its tie index 2.
    assert.deepEqual(scores(lampScores(weights)), [1, 1 / 6, 1 / 5, 1]);
    assert.deepEqual(rankGroups(lampScores(weights)).slice(0, 2), ['a:1', 'a:2']);
  });

  it('fpgm sums the distances to the other filters of the set; the one nearest the geometric median goes first', () => {
    const weights = weightsOf([{ layers: ['a'], f: [0, 0] }, { layers: ['a'], f: [1, 0] }, { layers: ['a'], f: [3, 0] }, { layers: ['b'], f: [7, 7] }]);
    assert.deepEqual(scores(fpgmScores(weights)), [4, 3, 5, 0]);
    assert.equal(rankGroups(fpgmScores(weights))[0], 'b:3');
  });

  it('an all-zero set scores 0, never NaN', () => {
    const weights = weightsOf([{ layers: ['a'], f: [0] }, { layers: ['a'], f: [0] }]);
    for (const table of [groupNormScores(weights), lampScores(weights), fpgmScores(weights)]) {
      assert.deepEqual(scores(table), [0, 0], table.method);
    }
  });

  it('fpgm refuses a set whose groups differ in size', () => {
    const weights = weightsOf([{ layers: ['a'], f: [0, 1] }, { layers: ['a'], f: [1] }]);
    assert.throws(() => fpgmScores(weights), /fpgm: group 'a:1' has 1 weights, group 'a:0' of the same layers 2/);
  });
});
