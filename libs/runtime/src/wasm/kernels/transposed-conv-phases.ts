import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { AxisWindow, planAxis, WasmKernelScope } from './kernel-utils';

/**
 * One residue class of a strided transposed convolution along one axis: the input
 * positions i with (i + padBefore) % stride === residue only receive the filter
 * taps residue, residue + stride, ... so they form a small stride-1 correlation.
 */
interface AxisPhase {
  /** Filter taps of this phase, in correlation order (last tap first). */
  taps: number[];
  /** First input-gradient position this phase writes, and how many it writes. */
  firstPosition: number;
  count: number;
  window: AxisWindow;
}

function axisPhase(residue: number, stride: number, filterSize: number, inSize: number, outSize: number, padBefore: number): AxisPhase {
  const tapCount = residue < filterSize ? Math.ceil((filterSize - residue) / stride) : 0;
  const taps = Array.from({ length: tapCount }, (_, u) => residue + stride * (tapCount - 1 - u));
  const firstQuotient = Math.ceil((padBefore - residue) / stride);
  const lastQuotient = Math.floor((inSize - 1 + padBefore - residue) / stride);
  const count = Math.max(0, lastQuotient - firstQuotient + 1);
  const window = planAxis({
    inSize: outSize,
    outSize: count,
    kernelSize: Math.max(tapCount, 1),
    stride: 1,
    dilation: 1,
    padBefore: tapCount - 1 - firstQuotient,
  });
  return { taps, firstPosition: firstQuotient * stride + residue - padBefore, count, window };
}

function axisPhases(stride: number, filterSize: number, inSize: number, outSize: number, padBefore: number): AxisPhase[] {
  return Array.from({ length: stride }, (_, residue) => axisPhase(residue, stride, filterSize, inSize, outSize, padBefore));
}

/** Sub-filter [rowTaps, colTaps, outChannels, inChannels] of one phase, flipped and transposed. */
function phaseFilter(filter: TensorInfo, rows: AxisPhase, cols: AxisPhase, backend: BackendWasm): TensorInfo {
  const [, width, inChannels, outChannels] = filter.shape;
  const out = backend.makeOutput([rows.taps.length, cols.taps.length, outChannels, inChannels], 'float32');
  const source = backend.typedArrayFromHeap(filter);
  const target = backend.typedArrayFromHeap(out);
  let t = 0;
  for (const row of rows.taps) {
    for (const col of cols.taps) {
      const tap = (row * width + col) * inChannels * outChannels;
      for (let o = 0; o < outChannels; o++) {
        for (let i = 0; i < inChannels; i++) {
          target[t++] = source[tap + i * outChannels + o];
        }
      }
    }
  }
  return out;
}

/** Writes a phase result [batch, rows.count, cols.count, channels] to its strided positions in dx. */
function scatterPhase(result: TensorInfo, dx: TensorInfo, rows: AxisPhase, cols: AxisPhase, stride: [number, number], backend: BackendWasm): void {
  const [batch, height, width, channels] = dx.shape;
  const source = backend.typedArrayFromHeap(result);
  const target = backend.typedArrayFromHeap(dx);
  let s = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows.count; r++) {
      const rowStart = (b * height + rows.firstPosition + r * stride[0]) * width;
      for (let c = 0; c < cols.count; c++) {
        const t = (rowStart + cols.firstPosition + c * stride[1]) * channels;
        for (let ch = 0; ch < channels; ch++) {
          target[t + ch] = source[s++];
        }
      }
    }
  }
}

function runPhase(dy: TensorInfo, filter: TensorInfo, dx: TensorInfo, rows: AxisPhase, cols: AxisPhase, info: backend_util.Conv2DInfo, backend: BackendWasm): void {
  // Phases without taps receive no contribution; dx starts zeroed.
  if (rows.count === 0 || cols.count === 0 || rows.taps.length === 0 || cols.taps.length === 0) {
    return;
  }
  const scope = new WasmKernelScope(backend);
  const subFilter = phaseFilter(filter, rows, cols, backend);
  try {
    const conv = { x: dy, filter: subFilter, strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number] };
    const result = scope.conv2d({ ...conv, rows: rows.window, cols: cols.window });
    scatterPhase(result, dx, rows, cols, [info.strideHeight, info.strideWidth], backend);
  } finally {
    scope.release(undefined);
    backend.disposeData(subFilter.dataId);
  }
}

/**
 * Input gradient of a strided NHWC convolution as stride x stride small stride-1
 * correlations, one per output phase, each with only the filter taps that reach it.
 * Unlike convolving a zero-dilated dy, no multiply is spent on inserted zeros.
 */
export function transposedConvByPhases(dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo, backend: BackendWasm): TensorInfo {
  const rowPhases = axisPhases(info.strideHeight, info.filterHeight, info.inHeight, info.outHeight, info.padInfo.top);
  const colPhases = axisPhases(info.strideWidth, info.filterWidth, info.inWidth, info.outWidth, info.padInfo.left);
  const dx = backend.makeOutput(info.inShape, 'float32');
  backend.typedArrayFromHeap(dx).fill(0);
  for (const rows of rowPhases) {
    for (const cols of colPhases) {
      runPhase(dy, filter, dx, rows, cols, info, backend);
    }
  }
  return dx;
}
