import {
  backend_util,
  Conv2DBackpropFilter,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';

import { planAxis, Shape4D, withWasmScope } from './kernel-utils';

interface Conv2DBackpropFilterArgs {
  inputs: Conv2DBackpropFilterInputs;
  attrs: Conv2DBackpropFilterAttrs;
  backend: KernelBackend;
}

/**
 * dW[i,j,c,k] = sum over n,p,q of x[n, p*s+i-padTop, q*s+j-padLeft, c] * dy[n,p,q,k].
 *
 * That is a plain convolution once the batch becomes the contracted channel:
 * x as [c, H, W, n] convolved with dy as a [p, q, n, k] filter whose taps are
 * spread by the forward stride (dilation = stride), stride 1. The result comes
 * out as [c, i, j, k], so XNNPACK does all the arithmetic.
 */
function conv2DBackpropFilter({ inputs, attrs, backend }: Conv2DBackpropFilterArgs): TensorInfo {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) {
    throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const channelsLast = dataFormat !== 'NCHW';
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const rows = planAxis({
    inSize: info.inHeight,
    outSize: info.filterHeight,
    kernelSize: info.outHeight,
    stride: 1,
    dilation: info.strideHeight,
    padBefore: info.padInfo.top,
  });
  const cols = planAxis({
    inSize: info.inWidth,
    outSize: info.filterWidth,
    kernelSize: info.outWidth,
    stride: 1,
    dilation: info.strideWidth,
    padBefore: info.padInfo.left,
  });

  return withWasmScope(backend, (scope) => {
    const channelsAsBatch = scope.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyAsFilter = scope.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const gradient = scope.conv2d({
      x: channelsAsBatch,
      filter: dyAsFilter,
      strides: [1, 1],
      dilations: [info.strideHeight, info.strideWidth],
      rows,
      cols,
    });
    return scope.transpose(gradient, [1, 2, 0, 3]);
  });
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
