import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { accumulateGradStats } from './accumulate-grad-stats';
import { fisherScores, taylorBatchScores } from './baselines';
import type { GradStats } from './grad-stats';
import { validateGradStats } from './grad-stats';
import { groupWeights } from './group-weights';
import { mergeGradStats } from './merge-grad-stats';
import { proscoreFromStats } from './proscore';
import { deserializeGradStats, serializeGradStats } from './serialize-grad-stats';
import type { Fixture } from './testing/fixture';
import { assertClose, disposeBatches, loadFixture, makeBatches, statsOver, workspaceRoot } from './testing/fixture';

function float64Bytes(values: Float64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

describe('gradient stats serialization', () => {
  let stats: GradStats;

  before(async () => {
    const fixture = await loadFixture();
    const batches = makeBatches(fixture.data, 8, 32, fixture.data.batchSize);
    stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'proscore-mlp', sampleStart: 8 });
    disposeBatches(batches);
  });

  it('round-trips bit-exactly', () => {
    const bytes = serializeGradStats(stats);
    const restored = deserializeGradStats(bytes);
    assert.deepEqual(restored.header, stats.header);
    assert.equal(restored.count, stats.count);
    assert.ok(Object.is(restored.sumLoss, stats.sumLoss));
    assert.deepEqual(float64Bytes(restored.sumR), float64Bytes(stats.sumR));
    restored.sumG.forEach((values, index) => assert.deepEqual(float64Bytes(values), float64Bytes(stats.sumG[index])));
    assert.deepEqual(serializeGradStats(restored), bytes);
  });

  it('detects a flipped byte anywhere', () => {
    const bytes = serializeGradStats(stats);
    for (const position of [0, 5, 20, bytes.length - 100, bytes.length - 40, bytes.length - 1]) {
      const corrupt = Uint8Array.from(bytes);
      corrupt[position] ^= 0x10;
      assert.throws(() => deserializeGradStats(corrupt), /checksum mismatch|not a gradient stats artifact/, `byte ${position}`);
    }
  });

  it('detects truncation', () => {
    const bytes = serializeGradStats(stats);
    assert.throws(() => deserializeGradStats(bytes.subarray(0, bytes.length - 8)), /corrupt or truncated/);
    assert.throws(() => deserializeGradStats(bytes.subarray(0, 10)), /truncated/);
  });

  it('reads from a Buffer view at a non-zero offset', () => {
    const bytes = serializeGradStats(stats);
    const padded = Buffer.alloc(bytes.length + 3);
    padded.set(bytes, 3);
    assert.deepEqual(deserializeGradStats(padded.subarray(3)).header, stats.header);
  });
});

describe('per-batch statistics in the artifact (format version 2) and artifacts of version 1', () => {
  let fixture: Fixture;
  let stats: GradStats;

  before(async () => {
    fixture = await loadFixture();
    stats = await statsOver(fixture, 8, 32);
  });

  it('writes version 2 and round-trips the per-batch statistics bit-exactly', () => {
    const bytes = serializeGradStats(stats);
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true), 2);
    const restored = deserializeGradStats(bytes);
    assert.ok(restored.batches && stats.batches);
    assert.deepEqual(restored.batches.sizes, [8, 8, 8]);
    for (const field of ['fDotG', 'gSquaredNorm', 'r', 'sumSquaredG'] as const) {
      restored.batches[field].forEach((values, index) => assert.deepEqual(float64Bytes(values), float64Bytes((stats.batches as NonNullable<GradStats['batches']>)[field][index]), field));
    }
    assert.deepEqual(serializeGradStats(restored), bytes);
  });

  it('reads an artifact written by the version-1 writer; criteria that need per-batch statistics say they are missing', () => {
    // Written by the format-1 writer from the statistics of samples [8, 32) of the fixture.
    const file = readFileSync(path.join(workspaceRoot(), 'libs', 'importance', 'test-data', 'grad-stats-format-1.ipgs'));
    const old = deserializeGradStats(file);
    assert.equal(old.batches, undefined);
    assert.deepEqual(old.header, stats.header);
    const gScale = Math.max(...stats.sumG.flatMap((values) => Array.from(values, Math.abs)));
    stats.sumG.forEach((values, group) => values.forEach((value, k) => assertClose(old.sumG[group][k], value, 1e-12, `sumG[${group}][${k}]`, gScale)));
    assert.deepEqual(Buffer.from(serializeGradStats(old)), file, 'statistics without per-batch data are still written as version 1, byte for byte');
    const weights = groupWeights(fixture.model, fixture.graph);
    assert.equal(proscoreFromStats(old, weights).rows.length, 9);
    const missing = /needs per-batch gradient statistics, which the statistics of samples \[8, 32\) lack \(written in format version 1/;
    assert.throws(() => taylorBatchScores(old, weights), new RegExp(`criterion 'taylor-batch' ${missing.source}`));
    assert.throws(() => fisherScores(old, weights), new RegExp(`criterion 'fisher' ${missing.source}`));
    assert.throws(() => proscoreFromStats(old, weights, { reading: 'per-batch' }), new RegExp(`PROscore reading 'per-batch' ${missing.source}`));
    assert.equal(mergeGradStats(old, { ...stats, header: { ...stats.header, sampleRange: [32, 56] } }).batches, undefined, 'a merge with version-1 statistics keeps only the pooled sums');
  });

  it('refuses per-batch statistics that do not line up with the sample range', () => {
    const batches = stats.batches as NonNullable<GradStats['batches']>;
    assert.throws(() => validateGradStats({ ...stats, batches: { ...batches, sizes: [8, 8, 7] } }), /the batch sizes add up to 23 samples, but sampleRange \[8, 32\) holds 24/);
    assert.throws(() => validateGradStats({ ...stats, batches: { ...batches, sizes: [8, 16] } }), /per-batch fDotG of group 'dense1:0' has 3 values for 2 batches/);
    assert.throws(() => validateGradStats({ ...stats, batches: { ...batches, sizes: [8, 0, 16] } }), /batch 1 has size 0/);
  });
});
