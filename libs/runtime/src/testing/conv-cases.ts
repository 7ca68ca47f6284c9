import { pick, seededRandom } from './backends';

export type Pair = [number, number];
export type ExplicitPadding = [Pair, Pair, Pair, Pair];
export type Padding = 'same' | 'valid' | ExplicitPadding;
export type PaddingKind = 'same' | 'valid' | 'explicit';

export interface ConvGeometry {
  batch: number;
  height: number;
  width: number;
  filterHeight: number;
  filterWidth: number;
  stride: number;
  dilation: number;
  /** Channels-last layout; see `toChannelsFirst` for NCHW. */
  pad: Padding;
}

export interface GeometryRequest {
  batch: number;
  stride: number;
  dilation: number;
  padding: PaddingKind;
}

const oddSizes = [7, 9, 11] as const;
const filterSizes = [1, 2, 3, 5] as const;

/**
 * Random odd spatial sizes and (possibly non-square) filters whose dilated
 * extent still fits the input, so 'valid' always has at least one output.
 * Explicit pads are asymmetric and may exceed the filter reach, which
 * exercises cropping in the transposed convolutions.
 */
export function randomGeometry(request: GeometryRequest, random: () => number): ConvGeometry {
  const height = pick(oddSizes, random);
  const width = pick(oddSizes, random);
  const fits = (size: number): boolean => (size - 1) * request.dilation + 1 <= Math.min(height, width);
  const usableFilters = filterSizes.filter(fits);
  return {
    batch: request.batch,
    height,
    width,
    filterHeight: pick(usableFilters, random),
    filterWidth: pick(usableFilters, random),
    stride: request.stride,
    dilation: request.dilation,
    pad: randomPadding(request.padding, random),
  };
}

function randomPadding(kind: PaddingKind, random: () => number): Padding {
  if (kind !== 'explicit') {
    return kind;
  }
  const side = (): number => Math.floor(random() * 3);
  return [
    [0, 0],
    [side(), side()],
    [side(), side()],
    [0, 0],
  ];
}

/** Explicit pads are given per axis in data-format order. */
export function toChannelsFirst(pad: Padding): Padding {
  if (typeof pad === 'string') {
    return pad;
  }
  const [batch, rows, cols, channels] = pad;
  return [batch, channels, rows, cols];
}

export function describeGeometry(geometry: ConvGeometry, extra = ''): string {
  const pad = typeof geometry.pad === 'string' ? geometry.pad : JSON.stringify(geometry.pad.slice(1, 3));
  return (
    `n=${geometry.batch} ${geometry.height}x${geometry.width} ` +
    `f=${geometry.filterHeight}x${geometry.filterWidth} s=${geometry.stride} d=${geometry.dilation} pad=${pad}${extra}`
  );
}

/** Every combination of the given option lists, as objects. */
export function combinations<T extends Record<string, readonly unknown[]>>(
  options: T,
): { [K in keyof T]: T[K][number] }[] {
  let result: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(options)) {
    result = result.flatMap((partial) => values.map((value) => ({ ...partial, [key]: value })));
  }
  return result as { [K in keyof T]: T[K][number] }[];
}

export interface DepthwiseCase {
  geometry: ConvGeometry;
  inChannels: number;
  multiplier: number;
}

/**
 * Strides 1 and 2 without dilation, plus dilation 2 at stride 1 (tfjs
 * gradients need one of the two to be 1), for every padding kind, batch 1
 * and 7, and channel multipliers 1 and 2.
 */
export function depthwiseCases(seed: number): DepthwiseCase[] {
  const random = seededRandom(seed);
  const grid = combinations({
    strideAndDilation: [
      [1, 1],
      [2, 1],
      [1, 2],
    ] as const,
    padding: ['same', 'valid', 'explicit'] as const,
    batch: [1, 7],
    multiplier: [1, 2],
  });
  return grid.map(({ strideAndDilation: [stride, dilation], padding, batch, multiplier }) => ({
    geometry: randomGeometry({ batch, stride, dilation, padding }, random),
    inChannels: 1 + Math.floor(random() * 5),
    multiplier,
  }));
}

export interface FilterValues {
  shape: [number, number, number, number];
  values: Float32Array;
}

/**
 * Spreads filter taps `dilation` apart with zeros between them: a dilated
 * convolution equals an undilated one with this filter. Used to get a
 * reference for dilated cases, which the tfjs cpu backprop kernels ignore.
 */
export function spreadFilterTaps({ shape, values }: FilterValues, dilation: number): FilterValues {
  const [height, width, inner, outer] = shape;
  const spread = spreadFilterShape(shape, dilation);
  const out = new Float32Array(spread.reduce((a, b) => a * b, 1));
  const tap = inner * outer;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const from = (i * width + j) * tap;
      out.set(values.subarray(from, from + tap), (i * dilation * spread[1] + j * dilation) * tap);
    }
  }
  return { shape: spread, values: out };
}

export function spreadFilterShape(shape: FilterValues['shape'], dilation: number): FilterValues['shape'] {
  const [height, width, inner, outer] = shape;
  return [(height - 1) * dilation + 1, (width - 1) * dilation + 1, inner, outer];
}

/** Inverse of `spreadFilterTaps`: keeps every `dilation`-th tap. */
export function gatherFilterTaps({ shape, values }: FilterValues, dilation: number): FilterValues {
  const [spreadHeight, spreadWidth, inner, outer] = shape;
  const gathered: FilterValues['shape'] = [
    (spreadHeight - 1) / dilation + 1,
    (spreadWidth - 1) / dilation + 1,
    inner,
    outer,
  ];
  const out = new Float32Array(gathered.reduce((a, b) => a * b, 1));
  const tap = inner * outer;
  for (let i = 0; i < gathered[0]; i++) {
    for (let j = 0; j < gathered[1]; j++) {
      const from = (i * dilation * spreadWidth + j * dilation) * tap;
      out.set(values.subarray(from, from + tap), (i * gathered[1] + j) * tap);
    }
  }
  return { shape: gathered, values: out };
}
