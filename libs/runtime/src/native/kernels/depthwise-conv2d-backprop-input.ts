import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropInputAttrs,
  dispose,
  KernelConfig,
  KernelFunc,
  Tensor,
  tensor1d,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { asNativeBackend, NATIVE_BACKEND } from '../native-backend';
import { convolutionAttrs } from './conv-attrs';
import { dilationsOf, spreadTaps } from './filter-taps';

/**
 * tfjs-node's DepthwiseConv2dNativeBackpropInput names explicit padding without
 * passing the pads, which TensorFlow rejects, and TensorFlow's CPU kernel ignores
 * dilations; this one passes explicit and numeric pads and runs a dilated filter as
 * its spread (undilated) equivalent.
 */
const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const native = asNativeBackend(backend);
  const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const rates = dilationsOf(dilations);
  const dilated = rates[0] > 1 || rates[1] > 1;
  const undilated = dilated ? spreadTaps(filter, rates) : filter;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    undilated.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const inputSizes = tensor1d(info.inShape, 'int32');
  try {
    return native.executeSingleOutput(DepthwiseConv2dNativeBackpropInput, convolutionAttrs(native, info), [inputSizes, undilated, dy]);
  } finally {
    dispose(dilated ? [inputSizes, undilated as Tensor] : [inputSizes]);
  }
};

export const depthwiseConv2dNativeBackpropInputNativeConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: NATIVE_BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
