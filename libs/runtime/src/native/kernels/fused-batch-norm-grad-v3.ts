import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asNativeBackend, boolAttr, floatAttr, floatTypeAttr, NATIVE_BACKEND, stringAttr } from '../native-backend';
import type { FusedBatchNormV3Attrs } from './fused-batch-norm-v3';

/**
 * The training-mode batch-norm gradient in one pass: TensorFlow's op of the same
 * name. dx includes the paths through the batch mean and variance.
 */
export const FusedBatchNormGradV3 = 'FusedBatchNormGradV3';

/** Outputs: dx, dScale, dOffset. */
export const FUSED_BATCH_NORM_GRAD_V3_OUTPUTS = 3;

interface Inputs {
  dy: TensorInfo;
  x: TensorInfo;
  scale: TensorInfo;
  /** The reserve spaces FusedBatchNormV3 produced for this x. */
  reserveSpace1: TensorInfo;
  reserveSpace2: TensorInfo;
  reserveSpace3: TensorInfo;
}

const fusedBatchNormGradV3: KernelFunc = ({ inputs, attrs, backend }) => {
  const native = asNativeBackend(backend);
  const { dy, x, scale, reserveSpace1, reserveSpace2, reserveSpace3 } = inputs as unknown as Inputs;
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormV3Attrs;
  if (x.shape.length !== 4 || dy.shape.join() !== x.shape.join()) {
    throw new Error(`${FusedBatchNormGradV3} takes NHWC x and dy of one shape, got [${x.shape}] and [${dy.shape}]`);
  }
  const opAttrs = [
    floatTypeAttr(native, 'T', x.dtype),
    floatTypeAttr(native, 'U', scale.dtype),
    floatAttr(native, 'epsilon', varianceEpsilon),
    stringAttr(native, 'data_format', 'NHWC'),
    boolAttr(native, 'is_training', true),
  ];
  const [dx, dScale, dOffset, ...placeholders] = native.executeMultipleOutputs(
    FusedBatchNormGradV3,
    opAttrs,
    [dy, x, scale, reserveSpace1, reserveSpace2, reserveSpace3],
    5,
  );
  // reserve_space_4 and _5 are empty placeholders of TensorFlow's op signature.
  placeholders.forEach((tensor) => tensor.dispose());
  return [dx, dScale, dOffset];
};

export const fusedBatchNormGradV3Config: KernelConfig = {
  kernelName: FusedBatchNormGradV3,
  backendName: NATIVE_BACKEND,
  kernelFunc: fusedBatchNormGradV3,
};
