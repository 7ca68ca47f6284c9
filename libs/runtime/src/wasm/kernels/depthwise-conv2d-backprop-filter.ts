import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropFilterInputs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';

import { planAxis, reshapeView, Shape4D, withWasmScope } from './kernel-utils';

interface DepthwiseBackpropFilterArgs {
  inputs: DepthwiseConv2dNativeBackpropFilterInputs;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
  backend: KernelBackend;
}

/**
 * dW[i,j,c,m] = sum over n,p,q of x[n, p*s+i*d-padTop, q*s+j*d-padLeft, c] * dy[n,p,q,c*M+m].
 *
 * Channels never mix, so a depthwise convolution can do the spatial part if
 * the batch is folded into the channels: x as [1, H, W, n*C+c] convolved with
 * dy as a [p, q, n*C+c, m] filter (dilation = forward stride, stride = forward
 * dilation) gives [1, i, j, (n*C+c)*M+m]; summing over n finishes the job.
 * A dense conv2d with the batch as contracted channel would cost C times more.
 */
function depthwiseConv2dNativeBackpropFilter({ inputs, attrs, backend }: DepthwiseBackpropFilterArgs): TensorInfo {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) {
    throw new Error('DepthwiseConv2dNativeBackpropFilter needs inputs x and dy');
  }
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize, inChannels, filterHeight, filterWidth } = info;
  const multiplier = info.outChannels / inChannels;
  const rows = planAxis({
    inSize: info.inHeight,
    outSize: filterHeight,
    kernelSize: info.outHeight,
    stride: info.dilationHeight,
    dilation: info.strideHeight,
    padBefore: info.padInfo.top,
  });
  const cols = planAxis({
    inSize: info.inWidth,
    outSize: filterWidth,
    kernelSize: info.outWidth,
    stride: info.dilationWidth,
    dilation: info.strideWidth,
    padBefore: info.padInfo.left,
  });

  return withWasmScope(backend, (scope) => {
    const batchInChannels = scope.transpose(x, [1, 2, 0, 3]);
    const dyAsFilter = scope.transpose(dy, [1, 2, 0, 3]);
    const perSample = scope.depthwiseConv2d({
      x: reshapeView(batchInChannels, [1, info.inHeight, info.inWidth, batchSize * inChannels]),
      filter: reshapeView(dyAsFilter, [info.outHeight, info.outWidth, batchSize * inChannels, multiplier]),
      strides: [info.dilationHeight, info.dilationWidth],
      dilations: [info.strideHeight, info.strideWidth],
      rows,
      cols,
    });
    const perSampleView = reshapeView(perSample, [filterHeight, filterWidth, batchSize, info.outChannels]);
    const gradient = scope.sum(perSampleView, 2);
    return reshapeView(gradient, [filterHeight, filterWidth, inChannels, multiplier]);
  });
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
