import { comparisonTableText, summariseComparison } from '@ippro/compare';
import type { CompareInput, CompareResult } from '@ippro/compare';
import { DEFAULT_LAMBDA } from '@ippro/importance';
import { statsReading } from '@ippro/pruning';
import { accuracyName } from '@ippro/workflow-core';
import { datasetText, fineTuneText, numericPathFact, outputText, percent, readingText, recalibrationText, withCallerFacts } from './format';
import { scoringRecord } from './group-scores';
import { widthChart } from './layer-widths';
import type { AccuracySeries, ReadArtifact, RunConfig, RunRecord, WidthChart } from './run-record';

export interface CompareRecordContext {
  input: CompareInput;
  read: ReadArtifact;
  facts?: [string, string][];
  title?: string;
  /** The run's effective configuration, shown as a table. */
  config?: RunConfig;
  /** Notes shown first (e.g. that the input model looks untrained). */
  notes?: string[];
}

function accuracySeries(result: CompareResult): AccuracySeries[] {
  const summary = summariseComparison(result);
  const input = { flopsKept: 1, top1: result.baseline.top1, label: 'input model' };
  const series: AccuracySeries[] = [];
  for (const [colour, criterion] of result.criteria.entries()) {
    const rows = summary.filter((row) => row.criterion === criterion).sort((a, b) => b.flopsKept - a.flopsKept);
    const label = (target: number): string => `${criterion}, ${percent(target)} removed`;
    series.push({ label: `${criterion} (pruned)`, colour, points: [input, ...rows.map((row) => ({ flopsKept: row.flopsKept, top1: row.top1Pruned.mean, label: label(row.target) }))] });
    if (result.fineTuneSteps > 0) {
      const tuned = rows.flatMap((row) => (row.top1Tuned === undefined ? [] : [{ flopsKept: row.flopsKept, top1: row.top1Tuned.mean, label: `${label(row.target)}, fine-tuned` }]));
      series.push({ label: `${criterion} (after ${result.fineTuneSteps} steps)`, colour, points: [input, ...tuned], dashed: true });
    }
  }
  return series;
}

/** One width chart per target: the input model and each criterion's pruned model (random: its first run). */
async function widthCharts(result: CompareResult, read: ReadArtifact): Promise<WidthChart[]> {
  const charts: WidthChart[] = [];
  for (const target of result.targets) {
    const models = [{ label: 'input model', modelArtifactId: result.baseline.modelArtifactId }];
    for (const criterion of result.criteria) {
      const row = result.rows.find((candidate) => candidate.criterion === criterion && candidate.target === target);
      if (row !== undefined) models.push({ label: criterion, modelArtifactId: row.pruned.modelArtifactId });
    }
    charts.push(await widthChart(read, `Layer widths at ${percent(target)} of ${result.metric} removed`, models));
  }
  return charts;
}

/** The report's data for a comparison, read from its result and its artifacts. */
export async function buildCompareRecord(result: CompareResult, context: CompareRecordContext): Promise<RunRecord> {
  const { input } = context;
  const lambda = input.lambda ?? DEFAULT_LAMBDA;
  const facts = withCallerFacts(context.facts, [
    ['criteria', result.criteria.join(', ')],
    ['model output', outputText(input.output)],
    ['targets', `${result.targets.map(percent).join(', ')} of ${result.metric} removed, one shot, ${input.plan?.ranking ?? 'global'} ranking`],
    ['lambda', String(lambda)],
    ['PROscore reading', `${readingText(input.proscore)} (variants: their modifiers over it)`],
    ['scoring data', input.scoringSamples === undefined ? datasetText(input.scoring?.dataset) : `${input.scoringSamples} samples of ${datasetText(input.scoring?.dataset)}, drawn by each run's seed`],
    ['evaluation data', datasetText(input.evaluation.dataset)],
    ['test data', input.test === undefined ? 'none' : `${datasetText(input.test.dataset)} (reported only)`],
    ['batch-norm recalibration', recalibrationText(input.recalibration)],
    ['fine-tuning', fineTuneText(input.fineTune === undefined ? undefined : { ...input.fineTune, steps: result.fineTuneSteps }, 'per pruned model')],
    result.seeds === undefined ? ['random criterion', `${result.randomSeeds} run(s)`] : ['runs', `${result.seeds} per criterion (seeds ${input.seed} to ${input.seed + result.seeds - 1})`],
    ['scoring passes', String(result.scoring?.passes ?? 0)],
    ...numericPathFact(result.numericPath),
  ]);
  const scoring = await scoringRecord(context.read, {
    modelArtifactId: result.baseline.modelArtifactId,
    ...(result.scoring === undefined ? {} : { statsArtifactIds: result.scoring.statsArtifactIds }),
    lambda,
    ...(input.proscore?.reading === 'trajectory' ? {} : { proscore: statsReading(input.proscore) }),
    includeBias: input.scoring?.includeBias ?? false,
  });
  const notes = [...(context.notes ?? []), ...(result.scoring === undefined ? ['No criterion of this comparison needs a scoring pass, so PROscore and Taylor are not available.'] : [])];
  const table = comparisonTableText(result);
  return {
    kind: 'compare',
    title: context.title ?? `ippro compare: ${result.criteria.join(', ')}`,
    facts,
    table: { title: 'Results', ...table },
    accuracyName: accuracyName(result.output),
    accuracy: accuracySeries(result),
    widths: await widthCharts(result, context.read),
    scoring,
    notes,
    ...(context.config === undefined ? {} : { config: context.config }),
  };
}
