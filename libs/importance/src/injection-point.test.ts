import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { accumulateGradStats } from './accumulate-grad-stats';
import type { GradStats } from './grad-stats';
import { groupWeights } from './group-weights';
import { mergeGradStats } from './merge-grad-stats';
import { deserializeGradStats, serializeGradStats } from './serialize-grad-stats';
import type { Fixture } from './testing/fixture';
import { disposeBatches, loadFixture, makeBatches } from './testing/fixture';
import { dot, l2Norm } from './vector-math';

async function statsOf(fixture: Fixture, options: Parameters<typeof accumulateGradStats>[3], start = 0, end = fixture.data.inputs.length): Promise<GradStats> {
  const batches = makeBatches(fixture.data, start, end, fixture.data.batchSize);
  try {
    return await accumulateGradStats(fixture.model, fixture.graph, batches, options);
  } finally {
    disposeBatches(batches);
  }
}

describe("injectionPoint 'producer': the scale multiplies the unit layer's own output", () => {
  let fixture: Fixture;
  let producer: GradStats;
  let elementWise: GradStats;

  before(async () => {
    fixture = await loadFixture();
    producer = await statsOf(fixture, { datasetId: 'proscore-mlp', includeBias: true, injectionPoint: 'producer' });
    elementWise = await statsOf(fixture, { datasetId: 'proscore-mlp', includeBias: true });
  });

  it('gives r_g = F_g . G_g, the derivative along the group\'s own weights (kernel and bias)', () => {
    // y = W x + b is linear in (W, b): scaling the output by s is scaling F_g by s.
    const weights = groupWeights(fixture.model, fixture.graph, { includeBias: true });
    weights.groups.forEach((entry, index) => {
      const g = producer.sumG[index].map((value) => value / producer.count);
      const r = producer.sumR[index] / producer.count;
      const scale = l2Norm(entry.f) * l2Norm(g);
      assert.ok(Math.abs(r - dot(entry.f, g)) <= 1e-5 * scale, `${entry.group.id}: r ${r} vs F.G ${dot(entry.f, g)}`);
    });
  });

  it('differs from the default point where a batch normalization follows the unit, and leaves G unchanged', () => {
    const differing = producer.header.groupIds.filter((_, index) => Math.abs(producer.sumR[index] - elementWise.sumR[index]) > 1e-6 * Math.abs(elementWise.sumR[index]));
    assert.ok(differing.length > 0, 'some r_g moved');
    producer.sumG.forEach((sums, index) => assert.deepEqual(sums, elementWise.sumG[index]));
  });

  it('is recorded in the header only when not the default, survives serialization and refuses to merge with the default', async () => {
    assert.equal(elementWise.header.injectionPoint, undefined);
    assert.equal(producer.header.injectionPoint, 'producer');
    assert.equal(deserializeGradStats(serializeGradStats(producer)).header.injectionPoint, 'producer');
    const half = fixture.data.inputs.length / 2;
    const first = await statsOf(fixture, { datasetId: 'proscore-mlp', includeBias: true, injectionPoint: 'producer' }, 0, half);
    const second = await statsOf(fixture, { datasetId: 'proscore-mlp', includeBias: true, sampleStart: half }, half);
    assert.throws(() => mergeGradStats(first, second), /injectionPoint differs \('producer' vs 'element-wise'\)/);
  });

  it('rejects an unknown point by name', async () => {
    await assert.rejects(
      statsOf(fixture, { datasetId: 'x', injectionPoint: 'after-relu' as unknown as 'producer' }),
      /injectionPoint must be 'element-wise' or 'producer', got 'after-relu'/,
    );
  });
});
