import { KernelConfig, KernelFunc, scalar, tensor1d, TensorInfo, tidy, util } from '@tensorflow/tfjs-core';
import { asNativeBackend, boolAttr, floatAttr, floatTypeAttr, NATIVE_BACKEND, stringAttr } from '../native-backend';

/** Batch normalisation in training mode: TensorFlow's op of the same name, on NHWC input. */
export const FusedBatchNormV3 = 'FusedBatchNormV3';

export interface FusedBatchNormV3Attrs {
  varianceEpsilon: number;
}

/**
 * Outputs, in order: the normalised tensor, the batch mean and the biased batch
 * variance (both per channel, as tf.moments gives them), then TensorFlow's three
 * reserve spaces, which only FusedBatchNormGradV3 reads.
 */
export const FUSED_BATCH_NORM_V3_OUTPUTS = 6;

interface Inputs {
  x: TensorInfo;
  scale: TensorInfo;
  offset: TensorInfo;
}

function checkShapes({ x, scale, offset }: Inputs): number {
  const channels = x.shape[3];
  if (x.shape.length !== 4 || channels === undefined) {
    throw new Error(`${FusedBatchNormV3} takes NHWC input, got shape [${x.shape}]`);
  }
  for (const [name, vector] of [['scale', scale], ['offset', offset]] as const) {
    if (vector.shape.length !== 1 || vector.shape[0] !== channels) {
      throw new Error(`${FusedBatchNormV3}: ${name} must have shape [${channels}], got [${vector.shape}]`);
    }
  }
  return channels;
}

const fusedBatchNormV3: KernelFunc = ({ inputs, attrs, backend }) => {
  const native = asNativeBackend(backend);
  const { x, scale, offset } = inputs as unknown as Inputs;
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormV3Attrs;
  const count = util.sizeFromShape(x.shape) / checkShapes({ x, scale, offset });
  const opAttrs = [
    floatTypeAttr(native, 'T', x.dtype),
    floatTypeAttr(native, 'U', scale.dtype),
    floatAttr(native, 'epsilon', varianceEpsilon),
    // 1 makes the running-statistics outputs equal the batch statistics, so no
    // running statistics need to be passed in (hence the empty tensors below).
    floatAttr(native, 'exponential_avg_factor', 1),
    stringAttr(native, 'data_format', 'NHWC'),
    boolAttr(native, 'is_training', true),
  ];
  return tidy(() => {
    const none = tensor1d([], 'float32');
    const [y, mean, unbiasedVariance, ...reserveSpaces] = native.executeMultipleOutputs(
      FusedBatchNormV3,
      opAttrs,
      [x, scale, offset, none, none],
      6,
    );
    // TensorFlow reports the unbiased (n - 1) variance for running averages; tfjs-layers
    // averages the biased one, which is also what the output was normalised with.
    const bias = scalar(count > 1 ? (count - 1) / count : 1);
    const variance = native.executeSingleOutput('Mul', [floatTypeAttr(native, 'T', 'float32')], [unbiasedVariance, bias]);
    return [y, mean, variance, ...reserveSpaces];
  });
};

export const fusedBatchNormV3Config: KernelConfig = {
  kernelName: FusedBatchNormV3,
  backendName: NATIVE_BACKEND,
  kernelFunc: fusedBatchNormV3,
};
