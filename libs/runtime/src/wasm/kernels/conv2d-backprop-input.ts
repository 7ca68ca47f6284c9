import {
  backend_util,
  Conv2D,
  Conv2DBackpropInput,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockWasmKernel, runWasmKernel } from './wasm-kernel-access';
import { transposedConvByPhases } from './transposed-conv-phases';

// The stock kernel is a naive loop, ~10x slower than XNNPACK's conv2d; kept for layouts we do not rewrite.
const stockKernel = captureStockWasmKernel(Conv2DBackpropInput);

interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * The input gradient of a convolution equals a stride-1 correlation of the
 * (for strided convolutions: zero-dilated) output gradient with the spatially
 * flipped filter; these are the paddings that make that correlation produce
 * exactly the input's extent. Negative ones mean the forward pass padded more
 * than the filter reaches, a case left to the stock kernel.
 */
function transposedPadding(info: backend_util.Conv2DInfo): Padding {
  const { padInfo, filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth } = info;
  return {
    top: filterHeight - 1 - padInfo.top,
    left: filterWidth - 1 - padInfo.left,
    bottom: inHeight + padInfo.top - (outHeight - 1) * info.strideHeight - 1,
    right: inWidth + padInfo.left - (outWidth - 1) * info.strideWidth - 1,
  };
}

function isRewritable(info: backend_util.Conv2DInfo, padding: Padding): boolean {
  const paddingValid = Object.values(padding).every((p) => p >= 0);
  return info.dataFormat === 'channelsLast' && paddingValid;
}

/** [h, w, in, out] -> [h, w, out, in], mirrored in both spatial axes. */
function flipAndTransposeFilter(filter: TensorInfo, backend: BackendWasm): TensorInfo {
  const [height, width, inChannels, outChannels] = filter.shape;
  const out = backend.makeOutput([height, width, outChannels, inChannels], 'float32');
  // Views are taken after allocating because heap growth detaches earlier views.
  const source = backend.typedArrayFromHeap(filter);
  const target = backend.typedArrayFromHeap(out);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const sourceTap = (row * width + col) * inChannels * outChannels;
      const targetTap = ((height - 1 - row) * width + (width - 1 - col)) * outChannels * inChannels;
      for (let i = 0; i < inChannels; i++) {
        for (let o = 0; o < outChannels; o++) {
          target[targetTap + o * inChannels + i] = source[sourceTap + i * outChannels + o];
        }
      }
    }
  }
  return out;
}

function correlateWithFlippedFilter(
  dy: TensorInfo,
  filter: TensorInfo,
  padding: Padding,
  backend: BackendWasm,
): TensorInfo {
  const flippedFilter = flipAndTransposeFilter(filter, backend);
  const attrs: NamedAttrMap = {
    strides: 1,
    dilations: 1,
    dataFormat: 'NHWC',
    pad: [
      [0, 0],
      [padding.top, padding.bottom],
      [padding.left, padding.right],
      [0, 0],
    ],
  };
  const dx = runWasmKernel(Conv2D, { x: dy, filter: flippedFilter }, attrs, backend);
  backend.disposeData(flippedFilter.dataId);
  return dx;
}

const conv2DBackpropInputViaConv2D: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  const padding = transposedPadding(info);
  if (!isRewritable(info, padding)) {
    return stockKernel.kernelFunc(args);
  }
  const isStrided = info.strideHeight > 1 || info.strideWidth > 1;
  return isStrided
    ? transposedConvByPhases(dy, filter, info, backend)
    : correlateWithFlippedFilter(dy, filter, padding, backend);
};

/** Conv2DBackpropInput for wasm as an XNNPACK conv2d on the flipped, transposed filter. */
export const conv2DBackpropInputWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputViaConv2D,
  // The stock kernel binds its wasm export in setup; the fallback path needs that binding.
  setupFunc: stockKernel.setupFunc,
};
