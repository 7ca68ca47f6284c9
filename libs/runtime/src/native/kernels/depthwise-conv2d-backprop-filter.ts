import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelConfig,
  KernelFunc,
  tensor1d,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { asNativeBackend, NATIVE_BACKEND } from '../native-backend';
import { convolutionAttrs } from './conv-attrs';
import { dilationsOf, gatherTaps, spreadShape } from './filter-taps';

/**
 * tfjs-node's DepthwiseConv2dNativeBackpropFilter names explicit padding without
 * passing the pads, which TensorFlow rejects, and TensorFlow's CPU kernel ignores
 * dilations; this one passes explicit and numeric pads and computes a dilated filter's
 * gradient as the gradient of its spread (undilated) filter at the taps.
 */
const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const native = asNativeBackend(backend);
  const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const rates = dilationsOf(dilations);
  const dilated = rates[0] > 1 || rates[1] > 1;
  const undilatedShape = dilated ? spreadShape(filterShape, rates) : filterShape;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    undilatedShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const filterSizes = tensor1d(undilatedShape, 'int32');
  try {
    const gradient = native.executeSingleOutput(DepthwiseConv2dNativeBackpropFilter, convolutionAttrs(native, info), [x, filterSizes, dy]);
    if (!dilated) return gradient;
    const taps = gatherTaps(gradient, filterShape, rates);
    gradient.dispose();
    return taps;
  } finally {
    filterSizes.dispose();
  }
};

export const depthwiseConv2dNativeBackpropFilterNativeConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: NATIVE_BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
