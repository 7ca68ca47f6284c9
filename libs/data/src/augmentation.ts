import { combineSeeds, SeededRandom } from './seeded-random';

/** Zero pixels added on each side before the random crop (the standard CIFAR recipe). */
export const AUGMENT_PADDING = 4;

/** Keeps the augmentation stream apart from the shuffle and synthetic-data streams. */
const AUGMENT_STREAM = 0xa06e;

/** One sample's augmentation: the crop's top-left corner in the padded image, then a flip. */
export interface CropFlip {
  /** 0..2*padding; `padding` means no shift. */
  readonly offsetY: number;
  readonly offsetX: number;
  readonly flip: boolean;
}

/**
 * The augmentation of sample `sampleIndex` (its index in the dataset) in `epoch`: it depends
 * on nothing else, so it is the same whatever the batch size or the worker.
 */
export function cropFlipFor(
  seed: number,
  epoch: number,
  sampleIndex: number,
  padding = AUGMENT_PADDING,
): CropFlip {
  const random = new SeededRandom(combineSeeds(AUGMENT_STREAM, seed, epoch, sampleIndex));
  return {
    offsetY: random.nextInt(2 * padding + 1),
    offsetX: random.nextInt(2 * padding + 1),
    flip: random.nextUint32() >= 0x80000000,
  };
}

/**
 * Writes the padded, cropped and (maybe) horizontally flipped version of a channels-last image.
 * Padding is zero in the source's value scale: applied before normalisation, it is black, as in
 * the usual pad-crop-flip-then-normalise pipeline.
 */
export function applyCropFlip(
  source: Float32Array,
  target: Float32Array,
  targetOffset: number,
  shape: readonly number[],
  cropFlip: CropFlip,
  padding = AUGMENT_PADDING,
): void {
  const [height, width, channels] = shape;
  let out = targetOffset;
  for (let y = 0; y < height; y++) {
    const sourceY = y + cropFlip.offsetY - padding;
    for (let x = 0; x < width; x++) {
      const croppedX = cropFlip.flip ? width - 1 - x : x;
      const sourceX = croppedX + cropFlip.offsetX - padding;
      const inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width;
      const from = (sourceY * width + sourceX) * channels;
      for (let c = 0; c < channels; c++, out++) target[out] = inside ? source[from + c] : 0;
    }
  }
}
