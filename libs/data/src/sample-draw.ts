import { DataError } from './data-error';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';
import { combineSeeds, SeededRandom } from './seeded-random';

/** Keeps the draw apart from the shuffle of the same seed, so a drawn scoring set is not the first batches of fine-tuning. */
const DRAW_STREAM = 0xd4a3;

/**
 * The indices of `size` samples of 0..total-1 drawn without replacement by `seed` (the first
 * `size` of a seeded Fisher-Yates shuffle), in ascending order: drawing every sample gives the
 * dataset itself, in its own order.
 */
export function drawIndices(total: number, size: number, seed: number): Uint32Array {
  if (!Number.isSafeInteger(size) || size < 1 || size > total) {
    throw new DataError('out-of-range', `cannot draw ${size} samples from ${total}: the draw must hold 1 to ${total} samples`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DataError('invalid-argument', `the draw's seed must be a non-negative integer, got ${seed}`);
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  const random = new SeededRandom(combineSeeds(DRAW_STREAM, seed));
  // The first `size` positions of a Fisher-Yates shuffle run from the front.
  for (let i = 0; i < size; i++) {
    const j = i + random.nextInt(total - i);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order.slice(0, size).sort();
}

/** `size` samples of `base` drawn by `seed` (drawIndices), re-indexed from 0. */
export class DrawnSamples implements LabeledDataset {
  readonly description: string;
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly normalization: LabeledDataset['normalization'];
  private readonly indices: Uint32Array;

  constructor(
    private readonly base: LabeledDataset,
    size: number,
    seed: number,
  ) {
    this.indices = drawIndices(base.size, size, seed);
    this.description = drawDescription(base.description, size, seed);
    this.size = size;
    this.sampleShape = base.sampleShape;
    this.numClasses = base.numClasses;
    this.normalization = base.normalization;
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.base.label(this.indices[index]);
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    checkSampleIndex(this, index);
    this.base.writeSample(this.indices[index], target, offset);
  }
}

/** How a draw names its data (in statistics headers and messages): `cifar10:train{2560 drawn by seed 3}`. */
export function drawDescription(base: string, size: number, seed: number): string {
  return `${base}{${size} drawn by seed ${seed}}`;
}
