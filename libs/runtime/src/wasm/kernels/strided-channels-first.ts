import { TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Float32 NHWC x [n, h, w, c] -> [c, n * outH * outW]: every stride-th row and
 * column (starting at 0), channels first, i.e. the transposed input matrix of
 * a 1x1 convolution with that stride.
 */
export function stridedChannelsFirst(
  x: TensorInfo,
  [n, h, w, c]: [number, number, number, number],
  [strideH, strideW]: [number, number],
  [outH, outW]: [number, number],
  backend: BackendWasm,
): TensorInfo {
  util.assert(x.dtype === 'float32' && (outH - 1) * strideH < h && (outW - 1) * strideW < w, () => 'bad strided gather');
  const rows = n * outH * outW;
  const out = backend.makeOutput([c, rows], 'float32');
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < outH; p++) {
      for (let q = 0; q < outW; q++, row++) {
        const from = ((b * h + p * strideH) * w + q * strideW) * c;
        for (let k = 0; k < c; k++) {
          dst[k * rows + row] = src[from + k];
        }
      }
    }
  }
  return out;
}

/**
 * One stride phase of a zero-padded NHWC input, channels zero-extended:
 * out[b, u, v, ch] = x[b, u * strideH + rowStart, v * strideW + colStart, ch],
 * zero where that lies outside x or ch >= c. Shape [n, gridH, gridW, paddedC].
 */
export function gatherPhaseGrid(
  x: TensorInfo,
  [n, h, w, c]: [number, number, number, number],
  [strideH, strideW]: [number, number],
  [rowStart, colStart]: [number, number],
  [gridH, gridW]: [number, number],
  paddedC: number,
  backend: BackendWasm,
): TensorInfo {
  util.assert(x.dtype === 'float32' && paddedC >= c, () => 'bad phase gather');
  const out = backend.makeOutput([n, gridH, gridW, paddedC], 'float32');
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < gridH; u++) {
      const row = u * strideH + rowStart;
      if (row < 0 || row >= h) continue;
      for (let v = 0; v < gridW; v++) {
        const col = v * strideW + colStart;
        if (col < 0 || col >= w) continue;
        const from = ((b * h + row) * w + col) * c;
        const to = ((b * gridH + u) * gridW + v) * paddedC;
        for (let k = 0; k < c; k++) {
          dst[to + k] = src[from + k];
        }
      }
    }
  }
  return out;
}
