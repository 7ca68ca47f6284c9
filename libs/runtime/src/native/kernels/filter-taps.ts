import { pad, reshape, slice, Tensor, TensorInfo, tidy } from '@tensorflow/tfjs-core';

/** Dilation rates along height and width. */
export type Dilations = [number, number];

export function dilationsOf(dilations: number | [number, number] | undefined): Dilations {
  if (dilations === undefined) return [1, 1];
  return typeof dilations === 'number' ? [dilations, dilations] : dilations;
}

/** The filter shape whose undilated convolution equals the dilated one of `shape`. */
export function spreadShape(shape: number[], [rows, cols]: Dilations): [number, number, number, number] {
  const [height = 1, width = 1, inner = 1, outer = 1] = shape;
  return [(height - 1) * rows + 1, (width - 1) * cols + 1, inner, outer];
}

/**
 * Puts dilation - 1 zeros between filter taps: a dilated convolution equals an undilated
 * one with this filter. TensorFlow's CPU depthwise gradients ignore their dilations.
 */
export function spreadTaps(filter: TensorInfo, dilations: Dilations): Tensor {
  const [height = 1, width = 1, inner = 1, outer = 1] = filter.shape;
  const [rows, cols] = dilations;
  return tidy(() => {
    const grouped = reshape(filter as Tensor, [height, 1, width, 1, inner, outer]);
    const gaps = pad(grouped, [[0, 0], [0, rows - 1], [0, 0], [0, cols - 1], [0, 0], [0, 0]]);
    const flat = reshape(gaps, [height * rows, width * cols, inner, outer]);
    return slice(flat, [0, 0, 0, 0], spreadShape(filter.shape, dilations));
  });
}

/** Inverse of spreadTaps: keeps every dilation-th tap of a spread filter (or its gradient). */
export function gatherTaps(spread: Tensor, shape: number[], dilations: Dilations): Tensor {
  const [height = 1, width = 1, inner = 1, outer = 1] = shape;
  const [rows, cols] = dilations;
  return tidy(() => {
    const padded = pad(spread, [[0, rows - 1], [0, cols - 1], [0, 0], [0, 0]]);
    const grouped = reshape(padded, [height, rows, width, cols, inner, outer]);
    return reshape(slice(grouped, [0, 0, 0, 0, 0, 0], [height, 1, width, 1, inner, outer]), shape);
  });
}
