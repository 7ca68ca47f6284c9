import type { GradStats, GradStatsHeader } from './grad-stats';
import { validateGradStats } from './grad-stats';

const SHARED_FIELDS = ['modelHash', 'datasetId', 'includeBias', 'batchNormMode'] as const;

function checkSameSource(a: GradStatsHeader, b: GradStatsHeader): void {
  for (const field of SHARED_FIELDS) {
    if (a[field] !== b[field]) {
      throw new Error(`cannot merge gradient stats: ${field} differs ('${String(a[field])}' vs '${String(b[field])}')`);
    }
  }
  const aPoint = a.injectionPoint ?? 'element-wise';
  const bPoint = b.injectionPoint ?? 'element-wise';
  if (aPoint !== bPoint) {
    throw new Error(`cannot merge gradient stats: injectionPoint differs ('${aPoint}' vs '${bPoint}')`);
  }
}

function rangeText([start, end]: readonly [number, number]): string {
  return `[${start}, ${end})`;
}

/** Batch shards: the same groups over adjacent sample ranges; sums add element by element. */
function mergeBatchShards(a: GradStats, b: GradStats): GradStats {
  if (a.header.sampleRange[1] !== b.header.sampleRange[0]) {
    throw new Error(
      `cannot merge gradient stats: sample ranges ${rangeText(a.header.sampleRange)} and ${rangeText(b.header.sampleRange)} are not adjacent (merge shards in shard order)`,
    );
  }
  const bIndex = new Map(b.header.groupIds.map((id, index) => [id, index]));
  const sumG = a.header.groupIds.map((id, index) => {
    const other = b.sumG[bIndex.get(id) as number];
    if (other.length !== a.sumG[index].length) {
      throw new Error(`cannot merge gradient stats: group '${id}' has ${a.sumG[index].length} vs ${other.length} weights`);
    }
    return a.sumG[index].map((value, k) => value + other[k]);
  });
  const sumR = a.sumR.map((value, index) => value + b.sumR[bIndex.get(a.header.groupIds[index]) as number]);
  return {
    header: { ...a.header, sampleRange: [a.header.sampleRange[0], b.header.sampleRange[1]], groupIds: [...a.header.groupIds], fSizes: [...a.header.fSizes] },
    count: a.count + b.count,
    sumLoss: a.sumLoss + b.sumLoss,
    sumG,
    sumR,
  };
}

/** Layer shards: disjoint groups over the same samples; the result holds a's groups, then b's. */
function mergeLayerShards(a: GradStats, b: GradStats): GradStats {
  const [aStart, aEnd] = a.header.sampleRange;
  const [bStart, bEnd] = b.header.sampleRange;
  if (aStart !== bStart || aEnd !== bEnd) {
    throw new Error(
      `cannot merge gradient stats of disjoint groups over different samples ${rangeText(a.header.sampleRange)} and ${rangeText(b.header.sampleRange)}`,
    );
  }
  const sumR = new Float64Array(a.sumR.length + b.sumR.length);
  sumR.set(a.sumR, 0);
  sumR.set(b.sumR, a.sumR.length);
  return {
    header: {
      ...a.header,
      sampleRange: [aStart, aEnd],
      groupIds: [...a.header.groupIds, ...b.header.groupIds],
      fSizes: [...a.header.fSizes, ...b.header.fSizes],
    },
    count: a.count,
    // Both shards ran the same forward pass over the same samples; keep the first's loss.
    sumLoss: a.sumLoss,
    sumG: [...a.sumG, ...b.sumG].map((values) => Float64Array.from(values)),
    sumR,
  };
}

/**
 * Merges two shards' gradient stats exactly (float64 addition, a + b). Batch shards (same
 * groups, a's range directly followed by b's) add; layer shards (disjoint groups, same range)
 * unite. Anything else (other model, data set, options, overlapping groups) is an error.
 */
export function mergeGradStats(a: GradStats, b: GradStats): GradStats {
  validateGradStats(a);
  validateGradStats(b);
  checkSameSource(a.header, b.header);
  const aIds = new Set(a.header.groupIds);
  const shared = b.header.groupIds.filter((id) => aIds.has(id)).length;
  if (shared === aIds.size && shared === b.header.groupIds.length) {
    return mergeBatchShards(a, b);
  }
  if (shared === 0) {
    return mergeLayerShards(a, b);
  }
  throw new Error(
    `cannot merge gradient stats: the shards share ${shared} groups but not all (a has ${aIds.size}, b has ${b.header.groupIds.length})`,
  );
}

/** Merges shards left to right in the given (shard index) order. */
export function mergeGradStatsInOrder(shards: readonly GradStats[]): GradStats {
  if (shards.length === 0) {
    throw new Error('cannot merge an empty list of gradient stats');
  }
  return shards.slice(1).reduce((merged, shard) => mergeGradStats(merged, shard), shards[0]);
}
