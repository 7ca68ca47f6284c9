import type { GradStats } from './grad-stats';
import type { GroupWeights } from './group-weights';
import type { ProscoreReading, RemovalOrder, ScoreRow, ScoreTable } from './score-table';
import { scoreRow } from './score-table';
import type { GroupBatchStatistics, GroupStatistics } from './stats-per-group';
import { batchStatisticsPerGroup, meanStatisticsPerGroup } from './stats-per-group';
import { l2Norm } from './vector-math';

/** The virtual step size lambda. Pending the documented sweep (IPPRO.md §3): not yet tuned. */
export const DEFAULT_LAMBDA = 1.0;

/**
 * |D'_g| below DEFAULT_DENOMINATOR_EPSILON * ||F_g|| scores +Infinity. Relative, because
 * D'_g / ||F_g|| = 1 + lambda r_g / ||F_g||^2 is scale free; 1e-12 is far below the float32
 * noise of r_g, so only a true cancellation reaches it.
 */
export const DEFAULT_DENOMINATOR_EPSILON = 1e-12;

/** Options every PROscore reading shares: the denominator guard and the end removed first. */
export interface ScoreReadingOptions {
  /** Relative threshold for |D'_g| (see DEFAULT_DENOMINATOR_EPSILON). */
  epsilon?: number;
  /** 'ascending' (default): lowest PROscore removed first; 'descending': highest first. */
  order?: RemovalOrder;
}

export interface ProscoreOptions extends ScoreReadingOptions {
  lambda?: number;
  /**
   * 'pooled' (default): the score of the mean gradient over the scoring set; 'per-batch': each
   * batch's score, averaged weighted by batch size. 'trajectory' is not computed from
   * statistics: see proscoreTrajectory.
   */
  reading?: ProscoreReading;
  /**
   * The training objective's L2 penalty on kernels, weightDecay/2 * ||kernels||^2 (as @ippro/models'
   * SgdTrainer), added to the scoring loss: G_g gains weightDecay * F_g, r_g is unchanged. Default 0.
   */
  weightDecay?: number;
}

const ORDERS: readonly RemovalOrder[] = ['ascending', 'descending'];

export function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a finite number > 0, got ${value}`);
  }
}

export function checkNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a finite number >= 0, got ${value}`);
  }
}

/** The order option, checked. */
export function removalOrder(options: ScoreReadingOptions): RemovalOrder {
  const order = options.order ?? 'ascending';
  if (!ORDERS.includes(order)) {
    throw new Error(`order must be 'ascending' or 'descending', got '${String(order)}'`);
  }
  return order;
}

/** ||F'|| / |D'|, +Infinity when |D'| < epsilon * ||F|| (kept), never NaN. */
export function projectiveRatio(id: string, movedNorm: number, denominator: number, fNorm: number, epsilon: number): number {
  const score = Math.abs(denominator) < epsilon * fNorm ? Number.POSITIVE_INFINITY : movedNorm / Math.abs(denominator);
  if (Number.isNaN(score)) {
    throw new Error(`PROscore of group '${id}' is NaN (||F'||=${movedNorm}, D'=${denominator})`);
  }
  return score;
}

/**
 * The table as the planner reads it: 'descending' negates every score (a dead group's 0 then
 * ranks after every positive score, a +Infinity first), so ascending order removes the highest
 * PROscore first.
 */
export function orderedTable(rows: ScoreRow[], reading: ProscoreReading, order: RemovalOrder): ScoreTable {
  const ordered = order === 'descending' ? rows.map((row) => ({ ...row, score: -row.score })) : rows;
  return { method: 'proscore', rows: ordered, reading, order };
}

function pooledScore({ entry, g, r }: GroupStatistics, fNorm: number, lambda: number, weightDecay: number, epsilon: number): number {
  // F - lambda (G + weightDecay F), element by element.
  const moved = entry.f.map((value, index) => value - lambda * (g[index] + weightDecay * value));
  return projectiveRatio(entry.group.id, l2Norm(moved), fNorm + (lambda * r) / fNorm, fNorm, epsilon);
}

/**
 * sum_b n_b PROscore_b / N, PROscore_b from G_b,g and r_b,g alone:
 * ||F - lambda G'_b||^2 = ||F||^2 - 2 lambda F.G'_b + lambda^2 ||G'_b||^2 with G'_b = G_b + weightDecay F.
 */
function perBatchScore(group: GroupBatchStatistics, fNorm: number, lambda: number, weightDecay: number, epsilon: number): number {
  const fSquared = fNorm * fNorm;
  let sum = 0;
  let count = 0;
  group.sizes.forEach((size, batch) => {
    const fDotG = group.fDotG[batch] + weightDecay * fSquared;
    const gSquared = group.gSquaredNorm[batch] + 2 * weightDecay * group.fDotG[batch] + weightDecay * weightDecay * fSquared;
    const movedSquared = fSquared - 2 * lambda * fDotG + lambda * lambda * gSquared;
    // Rounding can take an exact 0 slightly below it.
    const movedNorm = Math.sqrt(Math.max(movedSquared, 0));
    sum += size * projectiveRatio(group.entry.group.id, movedNorm, fNorm + (lambda * group.batchR[batch]) / fNorm, fNorm, epsilon);
    count += size;
  });
  return sum / count;
}

function rowOf<T extends GroupStatistics>(group: T, score: (group: T, fNorm: number) => number): ScoreRow {
  const fNorm = l2Norm(group.entry.f);
  const base = { ...scoreRow(group.entry.group, 0), fNorm, r: group.r };
  // A dead group: nothing to lose by removing it.
  return fNorm === 0 ? { ...base, dLdD: null } : { ...base, score: score(group, fNorm), dLdD: -group.r / fNorm };
}

/**
 * PROscore (IPPRO.md §3) of every group in the stats: ||F - lambda G|| / |D'| with
 * D' = ||F|| + lambda r / ||F||, after dividing the merged sums by the sample count; or, with
 * reading 'per-batch', the batch-size-weighted mean of every batch's own score.
 */
export function proscoreFromStats(stats: GradStats, weights: GroupWeights, options: ProscoreOptions = {}): ScoreTable {
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  const epsilon = options.epsilon ?? DEFAULT_DENOMINATOR_EPSILON;
  const weightDecay = options.weightDecay ?? 0;
  const reading = options.reading ?? 'pooled';
  checkPositive('lambda', lambda);
  checkPositive('epsilon', epsilon);
  checkNonNegative('weightDecay', weightDecay);
  const order = removalOrder(options);
  if (weightDecay > 0 && weights.includeBias) {
    throw new Error('weightDecay: the training objective decays kernels only, but F_g holds biases (includeBias); score without includeBias to add the penalty');
  }
  if (reading === 'pooled') {
    const rows = meanStatisticsPerGroup(stats, weights).map((group) => rowOf(group, (g, fNorm) => pooledScore(g, fNorm, lambda, weightDecay, epsilon)));
    return orderedTable(rows, reading, order);
  }
  if (reading === 'per-batch') {
    const groups = batchStatisticsPerGroup(stats, weights, "PROscore reading 'per-batch'");
    return orderedTable(groups.map((group) => rowOf(group, (g, fNorm) => perBatchScore(g, fNorm, lambda, weightDecay, epsilon))), reading, order);
  }
  if (reading === 'trajectory') {
    throw new Error(
      "PROscore reading 'trajectory' takes real optimizer steps over an ordered batch stream (proscoreTrajectory); it cannot be computed from gradient statistics, which shard by batch",
    );
  }
  throw new Error(`PROscore reading must be 'pooled', 'per-batch' or 'trajectory', got '${String(reading)}'`);
}
