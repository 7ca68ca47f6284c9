import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ColorType } from 'pngjs';

/** Pixels of a test image: height x width x channels bytes (1 grayscale, 2 grayscale + alpha, 3 RGB, 4 RGBA). */
export interface TestImage {
  height: number;
  width: number;
  channels: 1 | 2 | 3 | 4;
  pixels: Uint8Array;
}

const PNG_COLOR_TYPES: Readonly<Record<number, ColorType>> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** A deterministic image whose bytes depend on (seed, y, x, c). */
export function testImage(height: number, width: number, channels: TestImage['channels'], seed: number): TestImage {
  const pixels = new Uint8Array(height * width * channels);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = (seed * 37 + i * 11 + ((i * i) % 7)) % 256;
  return { height, width, channels, pixels };
}

function rgba(image: TestImage): Buffer {
  const out = Buffer.alloc(image.height * image.width * 4);
  for (let p = 0; p < image.height * image.width; p += 1) {
    const at = p * image.channels;
    const gray = image.channels <= 2;
    const [r, g, b] = gray ? [image.pixels[at], image.pixels[at], image.pixels[at]] : [image.pixels[at], image.pixels[at + 1], image.pixels[at + 2]];
    const alpha = image.channels === 2 ? image.pixels[at + 1] : image.channels === 4 ? image.pixels[at + 3] : 255;
    out.set([r as number, g as number, b as number, alpha as number], p * 4);
  }
  return out;
}

/** The PNG file of an image, in its own colour type (grayscale, grayscale + alpha, RGB or RGBA). */
export function pngBytes(image: TestImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = rgba(image);
  return PNG.sync.write(png, { colorType: PNG_COLOR_TYPES[image.channels] as ColorType, inputColorType: 6, inputHasAlpha: true });
}

/** A baseline JPEG of an RGB image (lossy: decoded pixels are close to, not equal to, the image's). */
export function jpegBytes(image: TestImage): Buffer {
  return jpeg.encode({ width: image.width, height: image.height, data: rgba(image) }, 95).data;
}

/** Writes `files` (relative path -> bytes) under `root`, creating folders. */
export function writeTree(root: string, files: Readonly<Record<string, Uint8Array>>): void {
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
}
