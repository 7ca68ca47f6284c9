import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded image: RGBA bytes (grayscale repeated in R, G and B; alpha 255 where the file has none) and the channels the file holds. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** 1 grayscale, 2 grayscale + alpha, 3 RGB, 4 RGBA. */
  readonly channels: number;
  /** width x height x 4 bytes, row-major. */
  readonly rgba: Uint8Array;
}

export const CHANNEL_NAMES: Readonly<Record<number, string>> = { 1: 'grayscale', 2: 'grayscale + alpha', 3: 'RGB', 4: 'RGBA' };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((value, i) => bytes[i] === value);
}

/**
 * The component count of a JPEG's frame header (SOF0-SOF15 but DHT, JPG and DAC), read by walking
 * the marker segments; undefined when no frame header comes before the data ends.
 */
function jpegComponents(bytes: Uint8Array): number | undefined {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return bytes[at + 9];
    at += 2 + length;
  }
  return undefined;
}

function decodePng(bytes: Buffer): DecodedImage {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, channels: (png.color ? 3 : 1) + (png.alpha ? 1 : 0), rgba: png.data };
}

function decodeJpeg(bytes: Buffer): DecodedImage {
  const components = jpegComponents(bytes);
  if (components !== 1 && components !== 3) {
    throw new Error(components === undefined ? 'no JPEG frame header' : `a JPEG with ${components} components (CMYK or other); ippro reads grayscale and RGB JPEGs`);
  }
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  return { width: image.width, height: image.height, channels: components, rgba: image.data };
}

/** Decodes a PNG (any bit depth, palette, interlaced) or a baseline/progressive JPEG, recognised by its first bytes. */
export function decodeImage(bytes: Buffer): DecodedImage {
  if (startsWith(bytes, PNG_SIGNATURE)) return decodePng(bytes);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return decodeJpeg(bytes);
  throw new Error('neither a PNG nor a JPEG (its first bytes are not a PNG or JPEG signature)');
}
