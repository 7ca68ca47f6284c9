import type { ImageFit } from './dataset-spec';
import type { DecodedImage } from './image-decode';

/** One output coordinate's two source rows (or columns) and the weight of the upper one. */
interface Interpolation {
  lower: number;
  upper: number;
  lerp: number;
}

/**
 * Bilinear weights with half-pixel centres, as TensorFlow's resize (half_pixel_centers, which
 * Keras' image loading uses): output i samples input (i + 0.5) * in / out - 0.5, clamped.
 */
function interpolations(outSize: number, inStart: number, inSize: number): Interpolation[] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, i) => {
    const position = (i + 0.5) * scale - 0.5;
    const floor = Math.floor(position);
    return { lower: inStart + Math.max(floor, 0), upper: inStart + Math.min(Math.ceil(position), inSize - 1), lerp: position - floor };
  });
}

/**
 * The source window an image is resized from: all of it ('resize'), or the largest centred window
 * with the target's aspect ratio ('crop', as Keras' crop_to_aspect_ratio computes it).
 */
function window(image: DecodedImage, height: number, width: number, fit: ImageFit): { top: number; left: number; rows: number; columns: number } {
  if (fit === 'resize') return { top: 0, left: 0, rows: image.height, columns: image.width };
  const rows = Math.min(image.height, Math.trunc((image.width * height) / width));
  const columns = Math.min(image.width, Math.trunc((image.height * width) / height));
  return { top: Math.trunc((image.height - rows) / 2), left: Math.trunc((image.width - columns) / 2), rows, columns };
}

/** ITU-R BT.601 luma, as most libraries turn RGB into grayscale. */
function luma(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

/**
 * Writes `image` at `height` x `width` with `channels` channels (1: grayscale, from RGB as luma;
 * 3: RGB; 4: RGBA) into `target` at `offset`, bilinear and rounded to bytes. An image already of
 * that size is copied exactly.
 */
export function fitImage(image: DecodedImage, height: number, width: number, channels: number, fit: ImageFit, target: Uint8Array, offset: number): void {
  const box = window(image, height, width, fit);
  const rows = interpolations(height, box.top, box.rows);
  const columns = interpolations(width, box.left, box.columns);
  const rgba = image.rgba;
  const pixel = new Float64Array(4);
  let out = offset;
  for (const row of rows) {
    const upper = row.upper * image.width * 4;
    const lower = row.lower * image.width * 4;
    for (const column of columns) {
      const left = column.lower * 4;
      const right = column.upper * 4;
      for (let c = 0; c < 4; c += 1) {
        const topLeft = rgba[lower + left + c] as number;
        const bottomLeft = rgba[upper + left + c] as number;
        const top = topLeft + ((rgba[lower + right + c] as number) - topLeft) * column.lerp;
        const bottom = bottomLeft + ((rgba[upper + right + c] as number) - bottomLeft) * column.lerp;
        pixel[c] = Math.min(255, Math.max(0, Math.round(top + (bottom - top) * row.lerp)));
      }
      if (channels === 1) {
        target[out] = image.channels <= 2 ? (pixel[0] as number) : luma(pixel[0] as number, pixel[1] as number, pixel[2] as number);
      } else {
        for (let c = 0; c < channels; c += 1) target[out + c] = pixel[c] as number;
      }
      out += channels;
    }
  }
}
