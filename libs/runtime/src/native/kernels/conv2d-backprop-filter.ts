import { backend_util, Conv2DBackpropFilter, Conv2DBackpropFilterAttrs, dispose, KernelConfig, KernelFunc, Tensor, tensor1d, TensorInfo } from '@tensorflow/tfjs-core';
import { asNativeBackend, NATIVE_BACKEND } from '../native-backend';
import { padToChannelsLast, toChannelsLast } from './channels-last';
import { convolutionAttrs } from './conv-attrs';

/**
 * tfjs-node's Conv2DBackpropFilter passes only 'same' and 'valid' padding and NHWC to
 * TensorFlow's CPU kernel; this one also takes explicit and numeric pads and NCHW data,
 * as tfjs' other backends do.
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const native = asNativeBackend(backend);
  const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const channelsFirst = dataFormat === 'NCHW';
  const owned: Tensor[] = [tensor1d(filterShape, 'int32')];
  const [xLast, dyLast] = channelsFirst ? [toChannelsLast(native, x), toChannelsLast(native, dy)] : [x, dy];
  if (channelsFirst) owned.push(xLast as Tensor, dyLast as Tensor);
  try {
    const info = backend_util.computeConv2DInfo(
      xLast.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      channelsFirst ? padToChannelsLast(pad) : pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    return native.executeSingleOutput(Conv2DBackpropFilter, convolutionAttrs(native, info), [xLast, owned[0] as Tensor, dyLast]);
  } finally {
    dispose(owned);
  }
};

export const conv2DBackpropFilterNativeConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: NATIVE_BACKEND,
  kernelFunc: conv2DBackpropFilter,
};
