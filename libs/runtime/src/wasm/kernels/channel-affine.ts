import { FusedDepthwiseConv2D, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel } from './wasm-kernel-access';

/** Per-channel factors and offsets; either may be absent (meaning 1 and 0). */
export interface ChannelAffine {
  scale?: Float32Array;
  shift?: Float32Array;
}

function vectorTensor(values: Float32Array, shape: number[], backend: BackendWasm): TensorInfo {
  const info = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(info).set(values);
  return info;
}

/**
 * y = x * scale[c] + shift[c] over the innermost (channel) axis, as one XNNPACK
 * 1x1 depthwise convolution with bias on x viewed as [1, rows, 1, channels].
 * It streams x once: about as fast as a same-shape multiply, and several times
 * faster than the stock broadcasting element-wise kernels or FusedBatchNorm.
 */
export function applyChannelAffine(x: TensorInfo, affine: ChannelAffine, backend: BackendWasm): TensorInfo {
  const channels = x.shape[x.shape.length - 1];
  const rows = util.sizeFromShape(x.shape) / channels;
  const scale = affine.scale ?? new Float32Array(channels).fill(1);
  const filter = vectorTensor(scale, [1, 1, channels, 1], backend);
  const bias = affine.shift === undefined ? undefined : vectorTensor(affine.shift, [channels], backend);
  const view: TensorInfo = { ...x, shape: [1, rows, 1, channels] };
  const attrs = { strides: 1, pad: 'valid', dilations: 1, dataFormat: 'NHWC', activation: 'linear' };
  const inputs = bias === undefined ? { x: view, filter } : { x: view, filter, bias };
  const out = runWasmKernel(FusedDepthwiseConv2D, inputs, attrs, backend);
  backend.disposeData(filter.dataId);
  if (bias !== undefined) backend.disposeData(bias.dataId);
  return { ...out, shape: x.shape };
}

/** Values of a tensor that holds exactly one value per channel, copied out of the heap. */
export function channelValues(info: TensorInfo, channels: number, backend: BackendWasm): Float32Array | undefined {
  const isPerChannel = util.sizeFromShape(info.shape) === channels && info.shape[info.shape.length - 1] === channels;
  return isPerChannel && info.dtype === 'float32' ? Float32Array.from(backend.typedArrayFromHeap(info)) : undefined;
}
