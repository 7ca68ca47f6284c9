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

/** The comparison as text cells: the input model first, then one row per criterion and target. */
export function comparisonTableText(result: CompareResult): TableText {
  const tuned = result.fineTuneSteps > 0;
  const accuracy = accuracyName(result.output);
  const headers = [
    'criterion',
    `${result.metric} removed`,
    'runs',
    'params kept',
    'FLOPs kept',
    `${accuracy} pruned`,
    ...(tuned ? [`${accuracy} after ${result.fineTuneSteps} steps`] : []),
  ];
  const baseline = ['input model', '-', '1', '100.00%', '100.00%', `${percentText(result.baseline.top1)}%`, ...(tuned ? ['-'] : [])];
  const rows = summariseComparison(result).map((row: SummaryRow) => [
    row.criterion,
    `${percentText(row.target)}%`,
    String(row.runs),
    `${percentText(row.paramsKept)}%`,
    `${percentText(row.flopsKept)}%`,
    spreadText(row.top1Pruned),
    ...(tuned ? [row.top1Tuned === undefined ? '-' : spreadText(row.top1Tuned)] : []),
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
] as const;

function csvNumber(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

/** One line per criterion and target (full precision; fractions, not percent), input model first. */
export function comparisonCsv(result: CompareResult): string {
  const { baseline } = result;
  const lines: string[][] = [[...CSV_COLUMNS]];
  lines.push(['input', result.metric, '0', '1', '1', '1', '0', String(baseline.top1), '', String(baseline.loss), '0', '', '', '']);
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
    ]);
  }
  return lines.map((cells) => cells.join(',')).join('\n') + '\n';
}

/** The JSON document of a comparison: the summary table and the full result (every run, every artifact id). */
export function comparisonDocument(result: CompareResult): { summary: SummaryRow[]; result: CompareResult } {
  return { summary: summariseComparison(result), result };
}
