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
 * What the per-batch readings need (docs/ippro.md §5), from the same pass: for batch b of n_b
 * samples with batch-mean gradient G_b,g and batch-mean r_b,g, the scalars F_g . G_b,g,
 * ||G_b,g||^2 and r_b,g, and per weight the sum over batches of n_b * G_b,g^2. The scalars merge
 * by concatenation in batch order, the squares by addition.
 */
export interface BatchStats {
  /** n_b of every batch, in batch order; they sum to the stats' count. */
  sizes: number[];
  /** Per group (header order), per batch: F_g . G_b,g, with F_g as the pass read it. */
  fDotG: Float64Array[];
  /** Per group, per batch: ||G_b,g||^2. */
  gSquaredNorm: Float64Array[];
  /** Per group, per batch: r_b,g (the batch mean). */
  r: Float64Array[];
  /** Per group, per weight of F_g: sum over batches of n_b * G_b,g^2. */
  sumSquaredG: Float64Array[];
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
  /** Absent in statistics of format version 1, in merges with them, and in merges of layer shards batched differently. */
  batches?: BatchStats;
}

function checkFiniteArray(values: Float64Array, what: string): void {
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new Error(`${what}[${bad}] is ${values[bad]}; gradient statistics must be finite`);
  }
}

function validateBatchStats(stats: GradStats, batches: BatchStats): void {
  const { header } = stats;
  const bad = batches.sizes.findIndex((size) => !Number.isInteger(size) || size < 1);
  if (bad >= 0) {
    throw new Error(`gradient stats: batch ${bad} has size ${batches.sizes[bad]}; batch sizes must be positive integers`);
  }
  const total = batches.sizes.reduce((sum, size) => sum + size, 0);
  if (total !== stats.count) {
    throw new Error(`gradient stats: the batch sizes add up to ${total} samples, but sampleRange [${header.sampleRange[0]}, ${header.sampleRange[1]}) holds ${stats.count}`);
  }
  const groups = header.groupIds.length;
  for (const field of ['fDotG', 'gSquaredNorm', 'r', 'sumSquaredG'] as const) {
    if (batches[field].length !== groups) {
      throw new Error(`gradient stats: per-batch ${field} has ${batches[field].length} groups, the header ${groups}`);
    }
  }
  header.groupIds.forEach((id, index) => {
    for (const field of ['fDotG', 'gSquaredNorm', 'r'] as const) {
      if (batches[field][index].length !== batches.sizes.length) {
        throw new Error(`gradient stats: per-batch ${field} of group '${id}' has ${batches[field][index].length} values for ${batches.sizes.length} batches`);
      }
      checkFiniteArray(batches[field][index], `per-batch ${field} of group '${id}'`);
    }
    if (batches.sumSquaredG[index].length !== header.fSizes[index]) {
      throw new Error(`gradient stats: sumSquaredG of group '${id}' has ${batches.sumSquaredG[index].length} values, fSizes says ${header.fSizes[index]}`);
    }
    checkFiniteArray(batches.sumSquaredG[index], `sumSquaredG of group '${id}'`);
  });
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
  if (stats.batches !== undefined) {
    validateBatchStats(stats, stats.batches);
  }
}
