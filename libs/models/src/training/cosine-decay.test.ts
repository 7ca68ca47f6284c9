import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decayedLearningRate } from './cosine-decay';

describe('decayedLearningRate', () => {
  it('is the base rate without a decay', () => {
    assert.equal(decayedLearningRate(0.05, undefined, 17), 0.05);
    assert.equal(decayedLearningRate(0.05, null, 0), 0.05);
  });

  it('runs a half cosine from the base rate at startStep towards 0 at startStep + steps', () => {
    const decay = { startStep: 10, steps: 4 };
    const rates = [10, 11, 12, 13, 14].map((step) => decayedLearningRate(0.1, decay, step));
    const expected = [0.1, 0.1 * (1 + Math.SQRT1_2) / 2, 0.05, 0.1 * (1 - Math.SQRT1_2) / 2, 0];
    rates.forEach((rate, i) => assert.ok(Math.abs(rate - (expected[i] ?? NaN)) < 1e-12, `step ${10 + i}: ${rate} != ${expected[i]}`));
  });

  it('keeps the base rate before startStep and 0 after the decay', () => {
    const decay = { startStep: 5, steps: 2 };
    assert.equal(decayedLearningRate(0.1, decay, 0), 0.1);
    assert.ok(Math.abs(decayedLearningRate(0.1, decay, 50)) < 1e-15);
  });
});
