import { backend_util, Conv2DBackpropInput, Conv2DBackpropInputAttrs, dispose, KernelConfig, KernelFunc, Tensor, tensor1d, TensorInfo } from '@tensorflow/tfjs-core';
import { asNativeBackend, NATIVE_BACKEND } from '../native-backend';
import { padToChannelsLast, toChannelsFirst, toChannelsLast } from './channels-last';
import { convolutionAttrs } from './conv-attrs';

type Shape4 = [number, number, number, number];

/**
 * tfjs-node's Conv2DBackpropInput passes only 'same' and 'valid' padding and NHWC to
 * TensorFlow's CPU kernel; this one also takes explicit and numeric pads and NCHW data,
 * as tfjs' other backends do.
 */
const conv2DBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const native = asNativeBackend(backend);
  const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const channelsFirst = dataFormat === 'NCHW';
  const [batch, channels, height, width] = inputShape;
  const shapeLast: Shape4 = channelsFirst ? [batch, height, width, channels] : inputShape;
  const info = backend_util.computeConv2DInfo(
    shapeLast,
    filter.shape as Shape4,
    strides,
    1,
    channelsFirst ? padToChannelsLast(pad) : pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const inputSizes = tensor1d(shapeLast, 'int32');
  const dyLast = channelsFirst ? toChannelsLast(native, dy) : dy;
  try {
    const dx = native.executeSingleOutput(Conv2DBackpropInput, convolutionAttrs(native, info), [inputSizes, filter, dyLast]);
    if (!channelsFirst) return dx;
    const dxFirst = toChannelsFirst(native, dx);
    dx.dispose();
    return dxFirst;
  } finally {
    dispose(channelsFirst ? [inputSizes, dyLast as Tensor] : [inputSizes]);
  }
};

export const conv2DBackpropInputNativeConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: NATIVE_BACKEND,
  kernelFunc: conv2DBackpropInput,
};
