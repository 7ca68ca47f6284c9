import type { BatchStats, GradStats, GradStatsHeader } from './grad-stats';
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

function concatenate(a: Float64Array, b: Float64Array): Float64Array {
  const joined = new Float64Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

/**
 * Per-batch statistics of batch shards: b's batches follow a's (concatenated in batch order),
 * squared gradients add. Absent when either shard lacks them (format version 1).
 */
function mergeBatchesOfBatchShards(a: GradStats, b: GradStats, bIndex: ReadonlyMap<string, number>): BatchStats | undefined {
  if (a.batches === undefined || b.batches === undefined) {
    return undefined;
  }
  const first = a.batches;
  const second = b.batches;
  const join = (field: 'fDotG' | 'gSquaredNorm' | 'r'): Float64Array[] =>
    first[field].map((values, index) => concatenate(values, second[field][bIndex.get(a.header.groupIds[index]) as number]));
  return {
    sizes: [...first.sizes, ...second.sizes],
    fDotG: join('fDotG'),
    gSquaredNorm: join('gSquaredNorm'),
    r: join('r'),
    sumSquaredG: first.sumSquaredG.map((values, index) => {
      const other = second.sumSquaredG[bIndex.get(a.header.groupIds[index]) as number];
      return values.map((value, k) => value + other[k]);
    }),
  };
}

/**
 * Per-batch statistics of layer shards: a's groups then b's. Only shards that batched their
 * samples alike have per-batch statistics in common; otherwise (or when either lacks them) the
 * merge has none, and only the pooled sums, which do not depend on batching, remain.
 */
function mergeBatchesOfLayerShards(a: GradStats, b: GradStats): BatchStats | undefined {
  const first = a.batches;
  const second = b.batches;
  if (first === undefined || second === undefined || first.sizes.join() !== second.sizes.join()) {
    return undefined;
  }
  const unite = (field: keyof Omit<BatchStats, 'sizes'>): Float64Array[] =>
    [...first[field], ...second[field]].map((values) => Float64Array.from(values));
  return {
    sizes: [...first.sizes],
    fDotG: unite('fDotG'),
    gSquaredNorm: unite('gSquaredNorm'),
    r: unite('r'),
    sumSquaredG: unite('sumSquaredG'),
  };
}

function withBatches(stats: GradStats, batches: BatchStats | undefined): GradStats {
  return batches === undefined ? stats : { ...stats, batches };
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
  const merged: GradStats = {
    header: { ...a.header, sampleRange: [a.header.sampleRange[0], b.header.sampleRange[1]], groupIds: [...a.header.groupIds], fSizes: [...a.header.fSizes] },
    count: a.count + b.count,
    sumLoss: a.sumLoss + b.sumLoss,
    sumG,
    sumR,
  };
  return withBatches(merged, mergeBatchesOfBatchShards(a, b, bIndex));
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
  const merged: GradStats = {
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
    sumR: concatenate(a.sumR, b.sumR),
  };
  return withBatches(merged, mergeBatchesOfLayerShards(a, b));
}

/**
 * Merges two shards' gradient stats exactly (float64 addition, a + b). Batch shards (same
 * groups, a's range directly followed by b's) add, their per-batch statistics concatenate;
 * layer shards (disjoint groups, same range and batches) unite. Anything else (other model,
 * data set, options, overlapping groups) is an error. Per-batch statistics survive only when
 * both shards have them (and, for layer shards, batched alike).
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
