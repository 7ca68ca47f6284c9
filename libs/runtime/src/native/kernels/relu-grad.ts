import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asNativeBackend, floatTypeAttr, NATIVE_BACKEND } from '../native-backend';

/** dy where x > 0, else 0, in one pass: TensorFlow's op of the same name. */
export const ReluGrad = 'ReluGrad';

const reluGrad: KernelFunc = ({ inputs, backend }) => {
  const native = asNativeBackend(backend);
  const { dy, x } = inputs as unknown as { dy: TensorInfo; x: TensorInfo };
  if (dy.shape.join() !== x.shape.join()) {
    throw new Error(`${ReluGrad}: dy [${dy.shape}] and x [${x.shape}] must have one shape`);
  }
  return native.executeSingleOutput(ReluGrad, [floatTypeAttr(native, 'T', x.dtype)], [dy, x]);
};

export const reluGradConfig: KernelConfig = {
  kernelName: ReluGrad,
  backendName: NATIVE_BACKEND,
  kernelFunc: reluGrad,
};
