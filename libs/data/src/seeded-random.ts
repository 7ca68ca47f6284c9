/**
 * Integer-only pseudo-random numbers, so every worker on every platform draws the same values
 * from the same seed: Math.imul and unsigned shifts have no rounding that could differ.
 */

const GOLDEN_RATIO_32 = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/** MurmurHash3's finaliser: a bijection on 32-bit integers that spreads every input bit. */
function mixBits(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Folds several non-negative integers into one 32-bit seed. Order matters, so the streams for
 * (seed 1, epoch 2) and (seed 2, epoch 1) are unrelated.
 */
export function combineSeeds(...parts: readonly number[]): number {
  let h = 0x6a09e667;
  for (const part of parts) {
    // Both halves, so sample indices or seeds above 2^32 still change the result.
    const low = part >>> 0;
    const high = Math.floor(part / TWO_POW_32) >>> 0;
    h = mixBits(h ^ mixBits(low + GOLDEN_RATIO_32));
    h = mixBits(h ^ mixBits(high ^ 0x5bd1e995));
  }
  return h;
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** xoshiro128**: small state, fast, and good enough statistically for shuffles and crops. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // Consecutive counters through a bijection are distinct, so the state is never all zero.
    let counter = seed >>> 0;
    const next = (): number => {
      counter = (counter + GOLDEN_RATIO_32) >>> 0;
      return mixBits(counter);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, bound); rejection keeps it unbiased for any bound. */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > TWO_POW_32) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${bound}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    let value = this.nextUint32();
    while (value >= limit) value = this.nextUint32();
    return value % bound;
  }
}
