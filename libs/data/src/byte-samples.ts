/** A byte b stands for the value b / 255 (images, CIFAR-10): every reader of bytes multiplies by this same constant. */
export const BYTE_TO_UNIT = 1 / 255;

/** target[offset + i] = bytes[i] / 255, as every byte-valued dataset writes its samples. */
export function bytesToUnit(bytes: Uint8Array, target: Float32Array, offset: number): void {
  for (let i = 0; i < bytes.length; i += 1) target[offset + i] = (bytes[i] as number) * BYTE_TO_UNIT;
}
