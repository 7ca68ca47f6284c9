import { CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES } from '../cifar10-format';

/**
 * Hand-made CIFAR-10 records: record r has label labels[r] and pixel byte p (planar order)
 * equal to pixel(r, p).
 */
export function cifar10Bytes(
  labels: readonly number[],
  pixel: (record: number, planarIndex: number) => number = (r, p) => (r * 7 + p) & 0xff,
): Buffer {
  const bytes = Buffer.alloc(labels.length * CIFAR10_RECORD_BYTES);
  labels.forEach((label, r) => {
    const at = r * CIFAR10_RECORD_BYTES;
    bytes[at] = label;
    for (let p = 0; p < CIFAR10_IMAGE_BYTES; p++) bytes[at + 1 + p] = pixel(r, p);
  });
  return bytes;
}
