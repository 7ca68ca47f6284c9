import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildChannelGraph } from '@ippro/graph';
import type { ChannelGroup } from '@ippro/graph';
import { accumulateGradStats } from './accumulate-grad-stats';
import type { GradStats } from './grad-stats';
import type { GroupWeights } from './group-weights';
import { proscoreFromStats } from './proscore';
import { rankGroups } from './score-table';
import type { FixtureData } from './testing/fixture';
import { disposeBatches, loadFixture, makeBatches } from './testing/fixture';

function syntheticGroup(id: string, index: number): ChannelGroup {
  return {
    id,
    index,
    kind: 'channel',
    members: [{ layer: 'conv', channel: index, kind: 'kernel', injectionLayer: 'conv' }],
    channels: [{ layer: 'conv', channel: index }],
    prunable: true,
  };
}

/** Weights and stats built by hand: F per group, mean G per group, mean r per group. */
function synthetic(fs: number[][], gs: number[][], rs: number[]): { weights: GroupWeights; stats: GradStats } {
  const ids = fs.map((_, index) => `conv:${index}`);
  const count = 4;
  return {
    weights: {
      modelName: 'synthetic',
      includeBias: false,
      groups: fs.map((f, index) => ({ group: syntheticGroup(ids[index], index), f: Float64Array.from(f), batchNormGammas: new Float64Array(), consumerSquaredNorm: 0 })),
    },
    stats: {
      header: {
        modelHash: 'synthetic',
        datasetId: 'none',
        sampleRange: [0, count],
        groupIds: ids,
        fSizes: fs.map((f) => f.length),
        includeBias: false,
        batchNormMode: 'inference',
      },
      count,
      sumLoss: 0,
      sumG: gs.map((g) => Float64Array.from(g, (value) => value * count)),
      sumR: Float64Array.from(rs, (value) => value * count),
    },
  };
}

describe('PROscore edge cases (IPPRO.md §3)', () => {
  it('scores a dead group 0 and ranks it first', () => {
    const { weights, stats } = synthetic([[1, 0], [0, 0], [0.1, 0.1]], [[0.5, 0], [0.3, 0.2], [0, 0]], [0.2, 0.7, -0.001]);
    const table = proscoreFromStats(stats, weights, { lambda: 1 });
    assert.equal(table.rows[1].score, 0);
    assert.equal(table.rows[1].dLdD, null);
    assert.equal(rankGroups(table)[0], 'conv:1');
  });

  it('scores +Infinity, not NaN, when |D\'| vanishes', () => {
    // ||F|| = 5 and r = -25 give D' = 5 + 1 * (-25) / 5 = 0 exactly; the second is 1e-15 off.
    const { weights, stats } = synthetic([[3, 4], [3, 4]], [[0, 0], [0, 0]], [-25, -25 + 1e-15]);
    const table = proscoreFromStats(stats, weights, { lambda: 1 });
    assert.equal(table.rows[0].score, Number.POSITIVE_INFINITY);
    assert.equal(table.rows[1].score, Number.POSITIVE_INFINITY);
    assert.deepEqual(rankGroups(table), ['conv:0', 'conv:1']);
  });

  it('uses |D\'| when the step crosses the origin', () => {
    // D' = 5 + (-50) / 5 = -5; ||F'|| = ||F|| = 5.
    const { weights, stats } = synthetic([[3, 4]], [[0, 0]], [-50]);
    assert.equal(proscoreFromStats(stats, weights, { lambda: 1 }).rows[0].score, 1);
  });

  it('refuses non-finite stats and a bad lambda', () => {
    const { weights, stats } = synthetic([[3, 4]], [[Number.NaN, 0]], [1]);
    assert.throws(() => proscoreFromStats(stats, weights), /sumG of group 'conv:0'\[0\] is NaN/);
    const good = synthetic([[3, 4]], [[0, 0]], [1]);
    assert.throws(() => proscoreFromStats(good.stats, good.weights, { lambda: 0 }), /lambda must be a finite number > 0/);
    assert.throws(() => proscoreFromStats({ ...good.stats, count: 3 }, good.weights), /count 3 does not match/);
  });
});

function withNaN(data: FixtureData, sample: number): FixtureData {
  const inputs = data.inputs.map((row) => [...row]);
  inputs[sample][2] = Number.NaN;
  return { ...data, inputs };
}

describe('non-finite values during accumulation', () => {
  it('names the input and the batch range of a non-finite sample', async () => {
    const fixture = await loadFixture();
    const batches = makeBatches(withNaN(fixture.data, 10), 0, 32, 8);
    await assert.rejects(
      accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'd' }),
      /non-finite loss \(NaN\) on samples \[8, 16\): first non-finite value at model input 'features'/,
    );
    disposeBatches(batches);
  });

  it('names the first layer producing a non-finite value', async () => {
    const fixture = await loadFixture();
    const dense3 = fixture.model.getLayer('dense3');
    const [kernel, bias] = dense3.getWeights();
    const broken = kernel.arraySync() as number[][];
    broken[0][1] = Number.POSITIVE_INFINITY;
    dense3.setWeights([tf.tensor2d(broken), bias]);
    const batches = makeBatches(fixture.data, 0, 32, 8);
    await assert.rejects(
      accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'd', sampleStart: 100 }),
      /on samples \[100, 108\): first non-finite value at layer 'dense3'/,
    );
    disposeBatches(batches);
  });
});

describe('accumulation options', () => {
  it('rejects unknown and unprunable groups', async () => {
    const fixture = await loadFixture();
    const unprunable = fixture.graph.groups.find((group) => !group.prunable);
    assert.ok(unprunable);
    await assert.rejects(accumulateGradStats(fixture.model, fixture.graph, [], { datasetId: 'd', groups: ['nope:0'] }), /group 'nope:0' is not in the channel graph/);
    await assert.rejects(accumulateGradStats(fixture.model, fixture.graph, [], { datasetId: 'd', groups: [unprunable.id] }), /is not prunable/);
  });

  it('includeBias appends one bias entry per unit to F and G', async () => {
    const fixture = await loadFixture();
    const batches = makeBatches(fixture.data, 0, 8, 8);
    const plain = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'd' });
    const withBias = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'd', includeBias: true });
    disposeBatches(batches);
    assert.deepEqual(withBias.header.fSizes, plain.header.fSizes.map((size, index) => size + (index < 5 ? 1 : 2)));
    assert.deepEqual(withBias.sumG[0].subarray(0, 6), plain.sumG[0]);
  });

  it('batch statistics mode leaves the moving statistics and the tensor count unchanged', async () => {
    const fixture = await loadFixture();
    const before = fixture.model.getLayer('bn1').getWeights().map((weight) => weight.dataSync().slice());
    const batches = makeBatches(fixture.data, 0, 32, 8);
    const tensors = tf.memory().numTensors;
    const inference = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'd' });
    const batchMode = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'd', batchNormMode: 'batch' });
    assert.equal(tf.memory().numTensors, tensors);
    disposeBatches(batches);
    const after = fixture.model.getLayer('bn1').getWeights().map((weight) => weight.dataSync().slice());
    assert.deepEqual(after, before);
    assert.equal(batchMode.header.batchNormMode, 'batch');
    assert.notDeepEqual(batchMode.sumR, inference.sumR);
  });
});

describe('injection points', () => {
  it('refuses a unit whose output hides a fused non-homogeneous activation', async () => {
    await loadFixture();
    const input = tfl.input({ shape: [3], name: 'x' });
    const hidden = tfl.layers.dense({ units: 4, activation: 'tanh', name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(hidden) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const graph = buildChannelGraph(model);
    await assert.rejects(accumulateGradStats(model, graph, [], { datasetId: 'd' }), /unit layer 'hidden' has a fused 'tanh' activation/);
    model.dispose();
  });
});
