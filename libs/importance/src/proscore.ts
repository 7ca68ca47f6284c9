import type { GradStats } from './grad-stats';
import type { GroupWeights } from './group-weights';
import type { ScoreRow, ScoreTable } from './score-table';
import type { GroupStatistics } from './stats-per-group';
import { meanStatisticsPerGroup } from './stats-per-group';
import { l2Norm } from './vector-math';

/** The virtual step size lambda. Pending the documented sweep (IPPRO.md §3): not yet tuned. */
export const DEFAULT_LAMBDA = 1.0;

/**
 * |D'_g| below DEFAULT_DENOMINATOR_EPSILON * ||F_g|| scores +Infinity. Relative, because
 * D'_g / ||F_g|| = 1 + lambda r_g / ||F_g||^2 is scale free; 1e-12 is far below the float32
 * noise of r_g, so only a true cancellation reaches it.
 */
export const DEFAULT_DENOMINATOR_EPSILON = 1e-12;

export interface ProscoreOptions {
  lambda?: number;
  /** Relative threshold for |D'_g| (see DEFAULT_DENOMINATOR_EPSILON). */
  epsilon?: number;
}

function checkPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a finite number > 0, got ${value}`);
  }
}

/** ||F - lambda G||, in float64, index order. */
function movedNorm(f: Float64Array, g: Float64Array, lambda: number): number {
  return l2Norm(f.map((value, index) => value - lambda * g[index]));
}

function scoreGroup({ entry, g, r }: GroupStatistics, lambda: number, epsilon: number): ScoreRow {
  const { group, f } = entry;
  const base = { id: group.id, index: group.index, members: group.members, r };
  const fNorm = l2Norm(f);
  if (fNorm === 0) {
    // A dead group: nothing to lose by removing it.
    return { ...base, score: 0, fNorm, dLdD: null };
  }
  const denominator = fNorm + (lambda * r) / fNorm;
  const numerator = movedNorm(f, g, lambda);
  const score = Math.abs(denominator) < epsilon * fNorm ? Number.POSITIVE_INFINITY : numerator / Math.abs(denominator);
  if (Number.isNaN(score)) {
    throw new Error(`PROscore of group '${group.id}' is NaN (||F'||=${numerator}, D'=${denominator})`);
  }
  return { ...base, score, fNorm, dLdD: -r / fNorm };
}

/**
 * PROscore (IPPRO.md §3) of every group in the stats: ||F - lambda G|| / |D'| with
 * D' = ||F|| + lambda r / ||F||, after dividing the merged sums by the sample count.
 */
export function proscoreFromStats(stats: GradStats, weights: GroupWeights, options: ProscoreOptions = {}): ScoreTable {
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  const epsilon = options.epsilon ?? DEFAULT_DENOMINATOR_EPSILON;
  checkPositive('lambda', lambda);
  checkPositive('epsilon', epsilon);
  const rows = meanStatisticsPerGroup(stats, weights).map((group) => scoreGroup(group, lambda, epsilon));
  return { method: 'proscore', rows };
}
