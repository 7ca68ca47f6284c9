import { BYTE_TO_UNIT } from './byte-samples';
import { CIFAR10_CHANNELS, CIFAR10_PIXELS_PER_CHANNEL } from './cifar10-format';

/**
 * Converts one channel-planar image (all R bytes, then all G, then all B) into channels-last
 * floats in 0..1: target[(y*32 + x)*3 + c] = source[c*1024 + y*32 + x] / 255.
 */
export function planarBytesToNhwc(
  source: Uint8Array,
  sourceOffset: number,
  target: Float32Array,
  targetOffset: number,
  pixelsPerChannel = CIFAR10_PIXELS_PER_CHANNEL,
  channels = CIFAR10_CHANNELS,
): void {
  for (let c = 0; c < channels; c++) {
    const plane = sourceOffset + c * pixelsPerChannel;
    let out = targetOffset + c;
    for (let p = 0; p < pixelsPerChannel; p++, out += channels) {
      target[out] = source[plane + p] * BYTE_TO_UNIT;
    }
  }
}
