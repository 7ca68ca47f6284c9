import { accuracyName } from '@ippro/workflow-core';
import type { CompareResult } from './compare-types';
import { summariseComparison } from './comparison-summary';
import type { Spread, SummaryRow } from './comparison-summary';

/** Percent with two decimals: 0.7305 -> "73.05". */
export function percentText(fraction: number): string {
  return (fraction * 100).toFixed(2);
}

function spreadText(spread: Spread): string {
  return spread.std === undefined ? `${percentText(spread.mean)}%` : `${percentText(spread.mean)}% ± ${percentText(spread.std)}`;
}

/** The columns every rendering shows, as text (the screen table, markdown and the HTML report). */
export interface TableText {
  headers: string[];
  rows: string[][];
}

/** A stage's cell: the spread over the runs, or '-' when the stage has no value. */
function stageText(spread: Spread | undefined): string {
  return spread === undefined ? '-' : spreadText(spread);
}

/** The stages a comparison measured after pruning: recalibrated and fine-tuned, when it did. */
function stagesOf(result: CompareResult): { recalibrated: boolean; tuned: boolean; test: boolean } {
  return { recalibrated: result.recalibrationBatches !== undefined, tuned: result.fineTuneSteps > 0, test: result.baseline.test !== undefined };
}

/**
 * The comparison as text cells: the input model first, then one row per criterion and target.
 * Accuracy (top-1, or exact match for a sigmoid) after pruning, after recalibration and after
 * fine-tuning on the evaluation data, then the same on the test data (`test top-1 ...`), each stage
 * only when the comparison has it.
 */
export function comparisonTableText(result: CompareResult): TableText {
  const { recalibrated, tuned, test } = stagesOf(result);
  const accuracy = accuracyName(result.output);
  const stageHeaders = (prefix: string): string[] => [
    `${prefix}${accuracy} pruned`,
    ...(recalibrated ? [`${prefix}${accuracy} recalibrated`] : []),
    ...(tuned ? [`${prefix}${accuracy} after ${result.fineTuneSteps} steps`] : []),
  ];
  const stageCells = (pruned: string, recalibratedCell: string, tunedCell: string): string[] => [pruned, ...(recalibrated ? [recalibratedCell] : []), ...(tuned ? [tunedCell] : [])];
  const headers = ['criterion', `${result.metric} removed`, 'runs', 'params kept', 'FLOPs kept', ...stageHeaders(''), ...(test ? stageHeaders('test ') : [])];
  const baselineTest = result.baseline.test;
  const baseline = [
    'input model',
    '-',
    '1',
    '100.00%',
    '100.00%',
    ...stageCells(`${percentText(result.baseline.top1)}%`, '-', '-'),
    ...(baselineTest === undefined ? [] : stageCells(`${percentText(baselineTest.top1)}%`, '-', '-')),
  ];
  const rows = summariseComparison(result).map((row: SummaryRow) => [
    row.criterion,
    `${percentText(row.target)}%`,
    String(row.runs),
    `${percentText(row.paramsKept)}%`,
    `${percentText(row.flopsKept)}%`,
    ...stageCells(spreadText(row.top1Pruned), stageText(row.top1Recalibrated), stageText(row.top1Tuned)),
    ...(test ? stageCells(stageText(row.test?.top1Pruned), stageText(row.test?.top1Recalibrated), stageText(row.test?.top1Tuned)) : []),
  ]);
  return { headers, rows: [baseline, ...rows] };
}

function escapeMarkdown(cell: string): string {
  return cell.replace(/\|/g, '\\|');
}

/** A GitHub-flavoured markdown table of the comparison. */
export function comparisonMarkdown(result: CompareResult): string {
  const { headers, rows } = comparisonTableText(result);
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

const CSV_COLUMNS = [
  'criterion',
  'metric',
  'target',
  'runs',
  'params_kept',
  'flops_kept',
  'removed_groups',
  'top1_pruned',
  'top1_pruned_std',
  'loss_pruned',
  'finetune_steps',
  'top1_tuned',
  'top1_tuned_std',
  'loss_tuned',
  'top1_recalibrated',
  'top1_recalibrated_std',
  'test_top1_pruned',
  'test_top1_pruned_std',
  'test_top1_recalibrated',
  'test_top1_recalibrated_std',
  'test_top1_tuned',
  'test_top1_tuned_std',
] as const;

function csvNumber(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

/** Mean and deviation cells of a spread, empty when absent. */
function csvSpread(spread: Spread | undefined): string[] {
  return [csvNumber(spread?.mean), csvNumber(spread?.std)];
}

/** One line per criterion and target (full precision; fractions, not percent), input model first. */
export function comparisonCsv(result: CompareResult): string {
  const { baseline } = result;
  const lines: string[][] = [[...CSV_COLUMNS]];
  lines.push(['input', result.metric, '0', '1', '1', '1', '0', String(baseline.top1), '', String(baseline.loss), '0', '', '', '', '', '', csvNumber(baseline.test?.top1), '', '', '', '', '']);
  for (const row of summariseComparison(result)) {
    lines.push([
      row.criterion,
      result.metric,
      String(row.target),
      String(row.runs),
      String(row.paramsKept),
      String(row.flopsKept),
      String(row.removedGroups),
      String(row.top1Pruned.mean),
      csvNumber(row.top1Pruned.std),
      String(row.lossPruned),
      String(result.fineTuneSteps),
      csvNumber(row.top1Tuned?.mean),
      csvNumber(row.top1Tuned?.std),
      csvNumber(row.lossTuned),
      ...csvSpread(row.top1Recalibrated),
      ...csvSpread(row.test?.top1Pruned),
      ...csvSpread(row.test?.top1Recalibrated),
      ...csvSpread(row.test?.top1Tuned),
    ]);
  }
  return lines.map((cells) => cells.join(',')).join('\n') + '\n';
}

/** The JSON document of a comparison: the summary table and the full result (every run, every artifact id). */
export function comparisonDocument(result: CompareResult): { summary: SummaryRow[]; result: CompareResult } {
  return { summary: summariseComparison(result), result };
}
