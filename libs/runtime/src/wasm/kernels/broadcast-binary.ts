import { Add, backend_util, KernelConfig, KernelFunc, Multiply, RealDiv, Sub, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockWasmKernel } from './wasm-kernel-access';
import { tileTensor } from './tile';
import { applyChannelAffine, ChannelAffine, channelValues } from './channel-affine';

// Below this many outputs the stock broadcast loop is cheap enough that tiling does not pay.
const MIN_OUTPUT_SIZE = 16384;

/**
 * How to repeat `small` so it gets shape `full`, or undefined unless plain
 * repetition along axes does it (every axis of `small`, left-padded with ones,
 * is 1 or already full size) and `small` is more than one value.
 */
function repetitionsToFill(small: number[], full: number[]): number[] | undefined {
  if (util.sizeFromShape(small) <= 1 || small.length > full.length) {
    return undefined;
  }
  const padded = [...new Array<number>(full.length - small.length).fill(1), ...small];
  const reps = padded.map((size, axis) => (size === full[axis] ? 1 : size === 1 ? full[axis] : 0));
  return reps.includes(0) ? undefined : reps;
}

interface BroadcastPlan {
  operand: 'a' | 'b';
  reps: number[];
  outShape: number[];
}

function planMaterialisedBroadcast(a: TensorInfo, b: TensorInfo): BroadcastPlan | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || util.arraysEqual(a.shape, b.shape)) {
    return undefined;
  }
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (util.sizeFromShape(outShape) < MIN_OUTPUT_SIZE) {
    return undefined;
  }
  const [operand, small] = util.arraysEqual(a.shape, outShape) ? (['b', b] as const) : (['a', a] as const);
  const full = operand === 'b' ? a : b;
  if (!util.arraysEqual(full.shape, outShape)) {
    return undefined;
  }
  const reps = repetitionsToFill(small.shape, outShape);
  return reps === undefined ? undefined : { operand, reps, outShape };
}

type VectorSide = 'a' | 'b';

/** The op as y = x * scale[c] + shift[c] when one side is a per-channel vector v, if it can be. */
function affineFor(kernelName: string, vectorSide: VectorSide, v: Float32Array): ChannelAffine | undefined {
  switch (kernelName) {
    case Multiply:
      return { scale: v };
    case Add:
      return { shift: v };
    case Sub:
      return vectorSide === 'b' ? { shift: v.map((value) => -value) } : { scale: v.map(() => -1), shift: v };
    case RealDiv:
      return vectorSide === 'b' ? { scale: v.map((value) => 1 / value) } : undefined;
    default:
      return undefined;
  }
}

/**
 * Full tensor op per-channel vector (the batch-norm gradient's pattern) as one
 * streaming 1x1 depthwise convolution, or undefined when the operands differ.
 */
function tryChannelAffine(kernelName: string, a: TensorInfo, b: TensorInfo, backend: BackendWasm): TensorInfo | undefined {
  const plan = planMaterialisedBroadcast(a, b);
  if (plan === undefined) {
    return undefined;
  }
  const full = plan.operand === 'a' ? b : a;
  const channels = full.shape[full.shape.length - 1];
  const v = channels > 1 ? channelValues(plan.operand === 'a' ? a : b, channels, backend) : undefined;
  const affine = v === undefined ? undefined : affineFor(kernelName, plan.operand, v);
  return affine === undefined ? undefined : applyChannelAffine(full, affine, backend);
}

function tileThenApply(stockKernel: KernelConfig, args: Parameters<KernelFunc>[0], plan: BroadcastPlan): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const small = plan.operand === 'a' ? a : b;
  const view: TensorInfo = { ...small, shape: plan.reps.map((r, axis) => plan.outShape[axis] / r) };
  const tiled = tileTensor(view, plan.reps, backend);
  const inputs = plan.operand === 'a' ? { a: tiled, b } : { a, b: tiled };
  const out = stockKernel.kernelFunc({ ...args, inputs }) as TensorInfo;
  backend.disposeData(tiled.dataId);
  return out;
}

/**
 * Wraps a stock wasm binary kernel for the case of one full-size operand and one
 * broadcast operand, where the stock per-element broadcast indexing is about five
 * times slower than its same-shape path. Per-channel vectors (the batch-norm
 * gradient's factors) become a 1x1 depthwise convolution; other broadcasts are
 * tiled by block copies first.
 */
function materialisedBroadcastConfig(kernelName: string): KernelConfig {
  const stockKernel = captureStockWasmKernel(kernelName);
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const viaAffine = tryChannelAffine(kernelName, a, b, backend);
    if (viaAffine !== undefined) {
      return viaAffine;
    }
    const plan = planMaterialisedBroadcast(a, b);
    return plan === undefined ? stockKernel.kernelFunc(args) : tileThenApply(stockKernel, args, plan);
  };
  return { kernelName, backendName: 'wasm', kernelFunc, setupFunc: stockKernel.setupFunc };
}

export const multiplyWasmConfig = materialisedBroadcastConfig(Multiply);
export const subWasmConfig = materialisedBroadcastConfig(Sub);
export const addWasmConfig = materialisedBroadcastConfig(Add);
export const realDivWasmConfig = materialisedBroadcastConfig(RealDiv);
