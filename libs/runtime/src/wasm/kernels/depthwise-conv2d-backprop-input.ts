import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropInputInputs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';

import { planAxis, reshapeView, Shape4D, WasmKernelScope, withWasmScope } from './kernel-utils';

interface DepthwiseBackpropInputArgs {
  inputs: DepthwiseConv2dNativeBackpropInputInputs;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
  backend: KernelBackend;
}

/**
 * Places dy[n,p,q,:] at (p*sh, q*sw) of a zero tensor [N, OH*sh, OW*sw, C],
 * turning the strided transposed convolution into a stride-1 one.
 */
function spreadByStride(scope: WasmKernelScope, dy: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  if (strideHeight === 1 && strideWidth === 1) {
    return dy;
  }
  const [batch, outHeight, outWidth, channels] = dy.shape as Shape4D;
  const spread = scope.pad(reshapeView(dy, [batch, outHeight, 1, outWidth, 1, channels]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return reshapeView(spread, [batch, outHeight * strideHeight, outWidth * strideWidth, channels]);
}

/**
 * dx[n,h,w,c] = sum over i,j,m of dy[n, (h+padTop-i*d)/s, (w+padLeft-j*d)/s, c*M+m] * W[i,j,c,m],
 * taking only terms where the division is exact.
 *
 * After spreading dy by the stride this is a stride-1 depthwise correlation
 * with the spatially flipped filter (one output per (c, m) pair, multiplier 1),
 * followed by a sum over m. The sum is a cheap contiguous reduction next to
 * the convolution, and keeps the heavy part inside XNNPACK.
 */
function depthwiseConv2dNativeBackpropInput({ inputs, attrs, backend }: DepthwiseBackpropInputArgs): TensorInfo {
  const { dy, filter } = inputs;
  if (dy === undefined || filter === undefined) {
    throw new Error('DepthwiseConv2dNativeBackpropInput needs inputs dy and filter');
  }
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4D,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize, inChannels, outChannels, filterHeight, filterWidth, dilationHeight, dilationWidth } = info;
  const rows = planAxis({
    inSize: info.outHeight * info.strideHeight,
    outSize: info.inHeight,
    kernelSize: filterHeight,
    stride: 1,
    dilation: dilationHeight,
    padBefore: (filterHeight - 1) * dilationHeight - info.padInfo.top,
  });
  const cols = planAxis({
    inSize: info.outWidth * info.strideWidth,
    outSize: info.inWidth,
    kernelSize: filterWidth,
    stride: 1,
    dilation: dilationWidth,
    padBefore: (filterWidth - 1) * dilationWidth - info.padInfo.left,
  });

  return withWasmScope(backend, (scope) => {
    const flipped = scope.reverse(filter, [0, 1]);
    const perPair = scope.depthwiseConv2d({
      x: spreadByStride(scope, dy, info.strideHeight, info.strideWidth),
      filter: reshapeView(flipped, [filterHeight, filterWidth, outChannels, 1]),
      strides: [1, 1],
      dilations: [dilationHeight, dilationWidth],
      rows,
      cols,
    });
    const multiplier = outChannels / inChannels;
    if (multiplier === 1) {
      return perPair;
    }
    const pairs = reshapeView(perPair, [batchSize, info.inHeight, info.inWidth, inChannels, multiplier]);
    return reshapeView(scope.sum(pairs, 4), inputShape);
  });
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
