import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineSeeds, SeededRandom } from './seeded-random';

function draw(seed: number, count: number): number[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => random.nextUint32());
}

test('the same seed gives the same stream; another seed another one', () => {
  assert.deepEqual(draw(42, 16), draw(42, 16));
  assert.notDeepEqual(draw(42, 16), draw(43, 16));
});

test('combined seeds depend on order and on every part, including bits above 2^32', () => {
  assert.equal(combineSeeds(1, 2), combineSeeds(1, 2));
  assert.notEqual(combineSeeds(1, 2), combineSeeds(2, 1));
  assert.notEqual(combineSeeds(1, 2, 3), combineSeeds(1, 2, 4));
  assert.notEqual(combineSeeds(5), combineSeeds(5 + 2 ** 32));
});

test('nextInt stays in range and is roughly uniform', () => {
  const random = new SeededRandom(7);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) counts[random.nextInt(10)]++;
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `count ${count}`);
  assert.throws(() => random.nextInt(0), RangeError);
});

test('nextFloat is in [0, 1)', () => {
  const random = new SeededRandom(9);
  for (let i = 0; i < 10_000; i++) {
    const value = random.nextFloat();
    assert.ok(value >= 0 && value < 1);
  }
});
