import { CIFAR10_NORMALIZATION } from './cifar10-normalization';
import { DataError } from './data-error';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';
import { combineSeeds, SeededRandom } from './seeded-random';

export interface SyntheticImageOptions {
  readonly size: number;
  readonly seed: number;
  readonly numClasses: number;
}

const SIDE = 32;
const CHANNELS = 3;
/** Distinguishes this generator's streams from the shuffle and augmentation streams. */
const SYNTHETIC_STREAM = 0x5e7d;
/** Per-pixel noise amplitude: large per pixel, but the image mean still identifies the class. */
const NOISE = 0.5;

/**
 * Deterministic CIFAR-shaped images (32x32x3, values 0..1) for fast tests: sample i has a
 * random label and pixels = its class's mean colour + uniform noise, so a model can learn the
 * classes from colour alone. Any sample is generated on demand from (seed, i).
 */
export class SyntheticImageDataset implements LabeledDataset {
  readonly sampleShape: readonly number[] = [SIDE, SIDE, CHANNELS];
  readonly normalization = CIFAR10_NORMALIZATION;
  readonly size: number;
  readonly numClasses: number;
  /** classColours[k*3 + c]: mean of channel c for class k. */
  private readonly classColours: Float32Array;

  constructor(
    readonly description: string,
    private readonly options: SyntheticImageOptions,
  ) {
    checkOptions(description, options);
    this.size = options.size;
    this.numClasses = options.numClasses;
    this.classColours = classColours(options.seed, options.numClasses);
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.sampleRandom(index).nextInt(this.numClasses);
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    checkSampleIndex(this, index);
    const random = this.sampleRandom(index);
    const colour = random.nextInt(this.numClasses) * CHANNELS;
    for (let i = 0; i < SIDE * SIDE * CHANNELS; i++) {
      const value = this.classColours[colour + (i % CHANNELS)] + (random.nextFloat() - 0.5) * NOISE;
      target[offset + i] = Math.min(1, Math.max(0, value));
    }
  }

  private sampleRandom(index: number): SeededRandom {
    return new SeededRandom(combineSeeds(SYNTHETIC_STREAM, this.options.seed, index));
  }
}

function checkOptions(description: string, options: SyntheticImageOptions): void {
  const { size, seed, numClasses } = options;
  const fail = (what: string): never => {
    throw new DataError('invalid-argument', `${description}: ${what}`);
  };
  if (!Number.isInteger(size) || size < 1) fail(`n must be a positive integer, got ${size}`);
  if (!Number.isInteger(seed) || seed < 0) fail(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 1000) {
    fail(`classes must be an integer in 2..1000, got ${numClasses}`);
  }
}

/**
 * Red levels are evenly spaced by class so every pair of classes differs; green and blue use
 * seeded orders of the same levels so the classes are not separable along one axis only.
 */
function classColours(seed: number, numClasses: number): Float32Array {
  const level = (k: number): number => 0.2 + (0.6 * k) / (numClasses - 1);
  const green = seededOrder(combineSeeds(SYNTHETIC_STREAM, seed, 1), numClasses);
  const blue = seededOrder(combineSeeds(SYNTHETIC_STREAM, seed, 2), numClasses);
  const colours = new Float32Array(numClasses * CHANNELS);
  for (let k = 0; k < numClasses; k++) {
    colours.set([level(k), level(green[k]), level(blue[k])], k * CHANNELS);
  }
  return colours;
}

function seededOrder(seed: number, length: number): number[] {
  const random = new SeededRandom(seed);
  const order = Array.from({ length }, (_, i) => i);
  for (let i = length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
