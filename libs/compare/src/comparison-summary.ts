import type { CompareResult, CompareRow, ModelMeasure } from './compare-types';

/** Mean, and the sample standard deviation when there is more than one run. */
export interface Spread {
  mean: number;
  std?: number;
}

/** Top-1 on the test data at each stage, over the runs. */
export interface TestSummary {
  top1Pruned: Spread;
  top1Recalibrated?: Spread;
  top1Tuned?: Spread;
}

/** One criterion at one target, over its runs (with `seeds`, one per seed; else several only for random). */
export interface SummaryRow {
  criterion: string;
  target: number;
  runs: number;
  /** Fractions of the input model's parameters and FLOPs kept (mean over runs). */
  paramsKept: number;
  flopsKept: number;
  removedGroups: number;
  top1Pruned: Spread;
  lossPruned: number;
  /** Absent without recalibration. */
  top1Recalibrated?: Spread;
  /** Absent without fine-tuning. */
  top1Tuned?: Spread;
  lossTuned?: number;
  /** Absent without test data. */
  test?: TestSummary;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no values to summarise');
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  if (values.length < 2) return { mean };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

const meanOf = (values: readonly number[]): number => spreadOf(values).mean;

/** The spread of top-1 over the runs' measures at one stage; absent when no run has the stage. */
function top1Spread(measures: readonly (ModelMeasure | undefined)[], read: (measure: ModelMeasure) => number | undefined): Spread | undefined {
  const values = measures.flatMap((measure) => {
    const value = measure === undefined ? undefined : read(measure);
    return value === undefined ? [] : [value];
  });
  return values.length === 0 ? undefined : spreadOf(values);
}

function testSummary(runs: readonly CompareRow[]): TestSummary | undefined {
  const onTest = (measure: ModelMeasure): number | undefined => measure.test?.top1;
  const top1Pruned = top1Spread(runs.map((run) => run.pruned), onTest);
  if (top1Pruned === undefined) return undefined;
  const top1Recalibrated = top1Spread(runs.map((run) => run.recalibrated), onTest);
  const top1Tuned = top1Spread(runs.map((run) => run.tuned), onTest);
  return { top1Pruned, ...(top1Recalibrated === undefined ? {} : { top1Recalibrated }), ...(top1Tuned === undefined ? {} : { top1Tuned }) };
}

function summarise(result: CompareResult, criterion: string, target: number, runs: readonly CompareRow[]): SummaryRow {
  const { baseline } = result;
  const tuned = runs.flatMap((run) => (run.tuned === undefined ? [] : [run.tuned]));
  const top1Recalibrated = top1Spread(runs.map((run) => run.recalibrated), (measure) => measure.top1);
  const test = testSummary(runs);
  return {
    criterion,
    target,
    runs: runs.length,
    paramsKept: meanOf(runs.map((run) => run.pruned.params / baseline.params)),
    flopsKept: meanOf(runs.map((run) => run.pruned.flops / baseline.flops)),
    removedGroups: meanOf(runs.map((run) => run.removedGroups)),
    top1Pruned: spreadOf(runs.map((run) => run.pruned.top1)),
    lossPruned: meanOf(runs.map((run) => run.pruned.loss)),
    ...(top1Recalibrated === undefined ? {} : { top1Recalibrated }),
    ...(tuned.length === 0 ? {} : { top1Tuned: spreadOf(tuned.map((run) => run.top1)), lossTuned: meanOf(tuned.map((run) => run.loss)) }),
    ...(test === undefined ? {} : { test }),
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
