import { seededRandom } from './backends';
import { randomInt } from './random-int';

export interface ReductionCase {
  shape: number[];
  axis: number[];
  keepDims: boolean;
}

/**
 * Seeded NHWC-like reductions: mostly the leading-axes pattern the fast path
 * takes (batch 1 and 7, odd spatial sizes), plus other axis sets that must
 * fall back to the stock kernel.
 */
export function reductionCases(seed: number, count: number): ReductionCase[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const batch = i % 2 === 0 ? 1 : 7;
    const shape = [batch, 2 * randomInt(random, 1, 5) + 1, 2 * randomInt(random, 1, 5) + 1, randomInt(random, 1, 9)];
    const leading = i % 4 !== 3;
    const axis = leading ? Array.from({ length: randomInt(random, 1, 3) }, (_, a) => a) : [1, 3];
    return { shape, axis, keepDims: random() < 0.5 };
  });
}
