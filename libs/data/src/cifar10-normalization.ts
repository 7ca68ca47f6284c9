import type { ChannelNormalization } from './labeled-dataset';

/**
 * Per-channel mean and standard deviation of the 50,000 CIFAR-10 training images, pixels scaled
 * to 0..1, order R, G, B. Measured over all pixels of the training set (a test recomputes them
 * from the real files). Note the std here is the population std of pixels, 0.2470/0.2435/0.2616;
 * the often-copied 0.2023/0.1994/0.2010 is an average of per-image stds and is not used.
 * The same constants normalise train and test, so evaluation sees the training distribution.
 */
export const CIFAR10_NORMALIZATION: ChannelNormalization = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
};

/** In place: (value - mean[c]) / std[c], channels last, so channel c = position mod channels. */
export function normalizeChannels(
  values: Float32Array,
  normalization: ChannelNormalization,
  offset = 0,
  length = values.length - offset,
): void {
  const channels = normalization.mean.length;
  const scale = normalization.std.map((s) => 1 / s);
  for (let i = 0; i < length; i++) {
    const c = i % channels;
    values[offset + i] = (values[offset + i] - normalization.mean[c]) * scale[c];
  }
}
