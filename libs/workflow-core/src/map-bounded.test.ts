import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapBounded } from './map-bounded';

describe('mapBounded', () => {
  it('keeps item order, never exceeds the limit, and reports progress', async () => {
    let inFlight = 0;
    let peak = 0;
    const progress: number[] = [];
    const delays = [30, 5, 20, 1, 10, 2, 15];
    const results = await mapBounded(
      delays,
      3,
      async (delay, index) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, delay));
        inFlight -= 1;
        return index * 10;
      },
      (done) => progress.push(done),
    );
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50, 60]);
    assert.equal(peak, 3);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
  });

  it('handles an empty list and refuses a bad limit', async () => {
    assert.deepEqual(await mapBounded([], 2, async () => 1), []);
    await assert.rejects(mapBounded([1], 0, async () => 1), /positive integer/);
  });
});
