import { cast, engine, getKernel, GradConfig, GradFunc, mul, Relu, step, Tensor } from '@tensorflow/tfjs-core';
import { ReluGrad } from '../kernels/relu-grad';

/**
 * Relu's gradient as one ReluGrad kernel where the active backend has one; elsewhere
 * tfjs' own formula, dy * step(x), which is four kernels over the activation on the
 * native backend (Step is Select, IsNan, Greater and Fill there).
 */
const reluGradient: GradFunc = (dy, saved) => {
  const [x] = saved;
  if (Array.isArray(dy) || x === undefined) {
    throw new Error('Relu gradient: expected one output gradient and the saved input');
  }
  if (getKernel(ReluGrad, engine().backendName) !== undefined) {
    return { x: () => engine().runKernel(ReluGrad, { dy, x }) as Tensor };
  }
  return { x: () => mul(dy, cast(step(x), 'float32')) };
};

export const reluGradientConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: reluGradient,
};
