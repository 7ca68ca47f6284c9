import type { CriterionName } from '@ippro/workflow-core';
import type { CompareResult, CompareRow } from './compare-types';

/** Mean, and the sample standard deviation when there is more than one run. */
export interface Spread {
  mean: number;
  std?: number;
}

/** One criterion at one target, over its runs (several only for the random criterion). */
export interface SummaryRow {
  criterion: CriterionName;
  target: number;
  runs: number;
  /** Fractions of the input model's parameters and FLOPs kept (mean over runs). */
  paramsKept: number;
  flopsKept: number;
  removedGroups: number;
  top1Pruned: Spread;
  lossPruned: number;
  /** Absent without fine-tuning. */
  top1Tuned?: Spread;
  lossTuned?: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no values to summarise');
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  if (values.length < 2) return { mean };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

const meanOf = (values: readonly number[]): number => spreadOf(values).mean;

function summarise(result: CompareResult, criterion: CriterionName, target: number, runs: readonly CompareRow[]): SummaryRow {
  const { baseline } = result;
  const tuned = runs.flatMap((run) => (run.tuned === undefined ? [] : [run.tuned]));
  return {
    criterion,
    target,
    runs: runs.length,
    paramsKept: meanOf(runs.map((run) => run.pruned.params / baseline.params)),
    flopsKept: meanOf(runs.map((run) => run.pruned.flops / baseline.flops)),
    removedGroups: meanOf(runs.map((run) => run.removedGroups)),
    top1Pruned: spreadOf(runs.map((run) => run.pruned.top1)),
    lossPruned: meanOf(runs.map((run) => run.pruned.loss)),
    ...(tuned.length === 0 ? {} : { top1Tuned: spreadOf(tuned.map((run) => run.top1)), lossTuned: meanOf(tuned.map((run) => run.loss)) }),
  };
}

/** One row per criterion and target, criteria in input order, then targets in input order. */
export function summariseComparison(result: CompareResult): SummaryRow[] {
  return result.criteria.flatMap((criterion) =>
    result.targets.map((target) =>
      summarise(
        result,
        criterion,
        target,
        result.rows.filter((row) => row.criterion === criterion && row.target === target),
      ),
    ),
  );
}
