import type { ChannelNormalization } from './labeled-dataset';

/** A normalization as a user states it: per-channel statistics, or 'none' (values as read). */
export type NormalizationSetting = ChannelNormalization | 'none';

const FORM = 'mean=R,G,B,std=R,G,B (one value each for every channel alike, e.g. mean=0.5,std=0.25) or none';

function numberList(text: string, name: string): number[] {
  const values = text.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part)));
  if (values.length === 0 || values.some((value) => !Number.isFinite(value))) {
    throw new Error(`${name} must be comma-separated numbers, got '${text}'`);
  }
  return values;
}

/** Checks statistics given in any form (a flag, a spec, a sidecar file): as many means as stds, finite, stds positive. */
export function checkNormalization(normalization: ChannelNormalization): ChannelNormalization {
  const { mean, std } = normalization;
  if (mean.length === 0 || mean.length !== std.length) throw new Error(`mean has ${mean.length} values and std ${std.length}; give as many of each (one per channel, or one for all)`);
  if (![...mean, ...std].every((value) => typeof value === 'number' && Number.isFinite(value))) throw new Error('mean and std must be finite numbers');
  if (std.some((value) => value <= 0)) throw new Error(`std must be positive, got ${std.join(',')}`);
  return { mean: [...mean], std: [...std] };
}

/** Parses `mean=R,G,B,std=R,G,B` (or one value each) or `none`. */
export function parseNormalization(text: string): NormalizationSetting {
  if (text === 'none') return 'none';
  const match = /^mean=([^=]*),std=([^=]*)$/.exec(text);
  if (!match) throw new Error(`must be ${FORM}, got '${text}'`);
  return checkNormalization({ mean: numberList(match[1] as string, 'mean'), std: numberList(match[2] as string, 'std') });
}

/** The text parseNormalization reads back to the same value. */
export function formatNormalization(setting: NormalizationSetting): string {
  return setting === 'none' ? 'none' : `mean=${setting.mean.join(',')},std=${setting.std.join(',')}`;
}

/** Why statistics cannot normalise samples of `sampleShape` (one value, or one per channel of the last axis), or undefined. */
export function normalizationMismatch(normalization: ChannelNormalization, sampleShape: readonly number[]): string | undefined {
  const channels = sampleShape[sampleShape.length - 1] ?? 1;
  const count = normalization.mean.length;
  return count === 1 || count === channels ? undefined : `the normalization has ${count} values per statistic, but the samples have ${channels} channels (last axis of [${sampleShape.join(', ')}])`;
}
