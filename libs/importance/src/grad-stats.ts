/** How BatchNormalization normalises during the scoring pass (IPPRO.md §4). */
export type BatchNormMode = 'inference' | 'batch';

/**
 * Where the scale s_g multiplies a unit's output (IPPRO.md §1). 'element-wise' (the default):
 * the input of the element-wise step after the unit, i.e. after a directly following
 * BatchNormalization. 'producer': the producing layer's own output, before any BatchNormalization,
 * where dL/ds is exactly the derivative of the loss along F_g's own scale. An ablation option.
 */
export type InjectionPoint = 'element-wise' | 'producer';

/** What a set of gradient sums was computed from; two stats merge only when these agree. */
export interface GradStatsHeader {
  /** Identifies the exact model (topology and weights), e.g. its artifact sha256. */
  modelHash: string;
  datasetId: string;
  /** Samples [start, end) of the dataset that were summed. */
  sampleRange: [number, number];
  /** Scored groups, in the order of `sumG` and `sumR`. */
  groupIds: string[];
  /** Length of F_g (and so of G_g) per group. */
  fSizes: number[];
  includeBias: boolean;
  batchNormMode: BatchNormMode;
  /** Absent means 'element-wise' (stats written before the option existed read the same). */
  injectionPoint?: InjectionPoint;
}

/**
 * Additive gradient statistics of a sample range: per group, the sums over samples of
 * dL_i/dF_g and of r_g,i. Dividing by `count` gives the G_g and r_g of IPPRO.md §2-3.
 */
export interface GradStats {
  header: GradStatsHeader;
  /** Number of samples summed. */
  count: number;
  /** Sum over samples of the loss (sumLoss / count is the mean scoring loss). */
  sumLoss: number;
  /** Per group (header order): sum over samples of dL/dF_g. */
  sumG: Float64Array[];
  /** Per group (header order): sum over samples of r_g. */
  sumR: Float64Array;
}

function checkFiniteArray(values: Float64Array, what: string): void {
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new Error(`${what}[${bad}] is ${values[bad]}; gradient statistics must be finite`);
  }
}

/** Throws an error naming the first inconsistent field of a GradStats. */
export function validateGradStats(stats: GradStats): void {
  const { header } = stats;
  const groups = header.groupIds.length;
  const [start, end] = header.sampleRange;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
    throw new Error(`gradient stats: sampleRange [${start}, ${end}) is not a valid range`);
  }
  if (!Number.isInteger(stats.count) || stats.count !== end - start) {
    throw new Error(`gradient stats: count ${stats.count} does not match sampleRange [${start}, ${end})`);
  }
  if (new Set(header.groupIds).size !== groups) {
    throw new Error('gradient stats: groupIds contains duplicates');
  }
  if (header.fSizes.length !== groups || stats.sumG.length !== groups || stats.sumR.length !== groups) {
    throw new Error(`gradient stats: fSizes, sumG and sumR must each have one entry per group (${groups})`);
  }
  header.groupIds.forEach((id, index) => {
    if (stats.sumG[index].length !== header.fSizes[index]) {
      throw new Error(`gradient stats: sumG of group '${id}' has ${stats.sumG[index].length} values, fSizes says ${header.fSizes[index]}`);
    }
    checkFiniteArray(stats.sumG[index], `sumG of group '${id}'`);
  });
  checkFiniteArray(stats.sumR, 'sumR');
  if (!Number.isFinite(stats.sumLoss)) {
    throw new Error(`gradient stats: sumLoss is ${stats.sumLoss}; it must be finite`);
  }
}
