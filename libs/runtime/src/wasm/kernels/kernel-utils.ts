import {
  getKernel,
  KernelBackend,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
  util,
} from '@tensorflow/tfjs-core';

export type Shape4D = [number, number, number, number];
export type Pair = [number, number];
type ExplicitPadding = [Pair, Pair, Pair, Pair];

/**
 * How one spatial axis of a convolution must be padded so that it yields
 * exactly `outSize` outputs. Negative padding is not expressible in XNNPACK,
 * so it is turned into extra outputs that are cropped away afterwards.
 */
export interface AxisWindow {
  padBefore: number;
  padAfter: number;
  /** Outputs to drop at the start of the axis. */
  cropBefore: number;
  outSize: number;
}

export interface AxisGeometry {
  inSize: number;
  outSize: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  /** May be negative: the first window then starts inside the input. */
  padBefore: number;
}

/** Pads (and, if needed, crops) one axis so the convolution yields `outSize` outputs. */
export function planAxis(axis: AxisGeometry): AxisWindow {
  const { inSize, outSize, kernelSize, stride, dilation } = axis;
  let { padBefore } = axis;
  let cropBefore = 0;
  if (padBefore < 0) {
    util.assert(-padBefore % stride === 0, () => `cannot crop ${-padBefore} rows with stride ${stride}`);
    cropBefore = -padBefore / stride;
    padBefore = 0;
  }
  const lastOutput = cropBefore + outSize - 1;
  const inputExtent = lastOutput * stride + (kernelSize - 1) * dilation + 1;
  // Rows past the extent are never read; surplus outputs they create are cropped.
  const padAfter = Math.max(0, inputExtent - inSize - padBefore);
  return { padBefore, padAfter, cropBefore, outSize };
}

export interface WindowedConv {
  x: TensorInfo;
  filter: TensorInfo;
  strides: Pair;
  dilations: Pair;
  rows: AxisWindow;
  cols: AxisWindow;
}

/** A view of the same data with another shape; owns nothing, frees nothing. */
export function reshapeView(x: TensorInfo, shape: number[]): TensorInfo {
  util.assert(
    util.sizeFromShape(shape) === util.sizeFromShape(x.shape),
    () => `cannot view shape [${x.shape}] as [${shape}]`,
  );
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/**
 * Runs registered wasm kernels on behalf of a composite kernel. Everything a
 * kernel creates is recorded so that it can be freed once the composite result
 * is known; the engine never sees these intermediates, so no tape or scope is
 * touched.
 */
export class WasmKernelScope {
  private readonly intermediates: TensorInfo[] = [];

  constructor(private readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, 'wasm');
    if (kernel === undefined) {
      throw new Error(`wasm kernel '${kernelName}' is not registered`);
    }
    const output = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    if (Array.isArray(output)) {
      output.forEach((info) => this.intermediates.push(info));
      throw new Error(`wasm kernel '${kernelName}' returned ${output.length} outputs, expected one`);
    }
    this.intermediates.push(output);
    return output;
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  pad(x: TensorInfo, paddings: Pair[]): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  sum(x: TensorInfo, axis: number): TensorInfo {
    return this.run('Sum', { x }, { axis: [axis], keepDims: false });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** NHWC conv2d whose spatial output is exactly rows.outSize x cols.outSize. */
  conv2d(conv: WindowedConv): TensorInfo {
    return this.windowed('Conv2D', conv, { dataFormat: 'NHWC' });
  }

  /** NHWC depthwise conv whose spatial output is exactly rows.outSize x cols.outSize. */
  depthwiseConv2d(conv: WindowedConv): TensorInfo {
    return this.windowed('DepthwiseConv2dNative', conv, {});
  }

  /** Frees every intermediate except the data backing `result`. */
  release(result: TensorInfo | undefined): void {
    for (const info of this.intermediates) {
      if (info.dataId !== result?.dataId) {
        this.backend.disposeData(info.dataId);
      }
    }
    this.intermediates.length = 0;
  }

  /** Takes ownership of data made outside `run`, so it is freed with the other intermediates. */
  adopt(info: TensorInfo): TensorInfo {
    this.intermediates.push(info);
    return info;
  }

  ownsData(info: TensorInfo): boolean {
    return this.intermediates.some((own) => own.dataId === info.dataId);
  }

  private windowed(kernelName: string, conv: WindowedConv, extraAttrs: NamedAttrMap): TensorInfo {
    const { x, filter, strides, dilations, rows, cols } = conv;
    const pad: ExplicitPadding = [
      [0, 0],
      [rows.padBefore, rows.padAfter],
      [cols.padBefore, cols.padAfter],
      [0, 0],
    ];
    const out = this.run(kernelName, { x, filter }, { ...extraAttrs, strides, dilations, pad });
    return this.cropSpatial(out, rows, cols);
  }

  // The wasm Slice kernel copies row by row from JS; crops happen on tiny
  // filter gradients, or on input gradients only for unusual pads and strided
  // 1x1/2x2 'valid' windows.
  private cropSpatial(x: TensorInfo, rows: AxisWindow, cols: AxisWindow): TensorInfo {
    const [batch, height, width, channels] = x.shape as Shape4D;
    if (rows.cropBefore === 0 && cols.cropBefore === 0 && height === rows.outSize && width === cols.outSize) {
      return x;
    }
    return this.slice(x, [0, rows.cropBefore, cols.cropBefore, 0], [batch, rows.outSize, cols.outSize, channels]);
  }
}

/**
 * Runs `body` with a fresh scope and frees all intermediates afterwards, also
 * when `body` throws. The result must come from the scope: returning an input
 * would hand the engine a data id it already owns.
 */
export function withWasmScope(backend: KernelBackend, body: (scope: WasmKernelScope) => TensorInfo): TensorInfo {
  const scope = new WasmKernelScope(backend);
  let result: TensorInfo | undefined;
  try {
    const candidate = body(scope);
    util.assert(scope.ownsData(candidate), () => 'composite wasm kernel must return data it created');
    result = candidate;
    return result;
  } finally {
    scope.release(result);
  }
}
