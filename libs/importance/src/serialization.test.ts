import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { accumulateGradStats } from './accumulate-grad-stats';
import type { GradStats } from './grad-stats';
import { deserializeGradStats, serializeGradStats } from './serialize-grad-stats';
import { disposeBatches, loadFixture, makeBatches } from './testing/fixture';

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
