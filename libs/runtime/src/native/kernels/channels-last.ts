import { Conv2DAttrs, Tensor, tensor1d, TensorInfo } from '@tensorflow/tfjs-core';
import { NativeBackend, OpAttr } from '../native-backend';

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

function transpose(native: NativeBackend, x: TensorInfo, permutation: number[]): Tensor {
  const perm = tensor1d(permutation, 'int32');
  try {
    const attrs: OpAttr[] = [
      { name: 'T', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT },
      { name: 'Tperm', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_INT32 },
    ];
    return native.executeSingleOutput('Transpose', attrs, [x, perm]);
  } finally {
    perm.dispose();
  }
}

/**
 * TensorFlow's CPU convolution gradients take NHWC only: NCHW tensors go through
 * a transpose on the way in (and the input gradient on the way out).
 */
export function toChannelsLast(native: NativeBackend, x: TensorInfo): Tensor {
  return transpose(native, x, NCHW_TO_NHWC);
}

export function toChannelsFirst(native: NativeBackend, x: TensorInfo): Tensor {
  return transpose(native, x, NHWC_TO_NCHW);
}

/** Explicit pads are listed per axis in data-format order; NCHW ones reordered to NHWC. */
export function padToChannelsLast(pad: Conv2DAttrs['pad']): Conv2DAttrs['pad'] {
  if (!Array.isArray(pad)) return pad;
  const [batch, channels, height, width] = pad;
  return [batch, height, width, channels] as Conv2DAttrs['pad'];
}
