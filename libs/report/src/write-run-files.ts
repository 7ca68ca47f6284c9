import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { comparisonCsv, comparisonDocument, comparisonMarkdown } from '@ippro/compare';
import type { CompareResult } from '@ippro/compare';
import { numericPathText } from '@ippro/workflow-core';
import { renderReportHtml } from './render-report';
import type { RunConfig, RunRecord } from './run-record';

/** The files a run's output directory holds for its report. */
export const REPORT_FILES = { record: 'report.json', html: 'report.html' } as const;

/** The files of a comparison's output directory. */
export const COMPARISON_FILES = { markdown: 'compare.md', csv: 'compare.csv', json: 'compare.json' } as const;

/** File name -> content of a run's report: the record (re-renderable later) and the page. */
export function reportFiles(record: RunRecord): Record<string, string> {
  return {
    [REPORT_FILES.record]: `${JSON.stringify(record, null, 2)}\n`,
    [REPORT_FILES.html]: renderReportHtml(record),
  };
}

/**
 * File name -> content of a comparison: markdown, CSV and JSON tables; the JSON carries the run's
 * configuration when given, and its numeric path at the top (where a prune run's summary.json has
 * it), as the markdown does under its heading.
 */
export function comparisonFiles(result: CompareResult, heading: string, config?: RunConfig, warnings: readonly string[] = []): Record<string, string> {
  const { numericPath } = result;
  const document = {
    ...(numericPath === undefined ? {} : { numericPath }),
    ...comparisonDocument(result),
    ...(config === undefined ? {} : { config }),
    ...(warnings.length === 0 ? {} : { warnings }),
  };
  const path = numericPath === undefined ? '' : `numeric path: ${numericPathText(numericPath)}\n\n`;
  return {
    [COMPARISON_FILES.markdown]: `# ${heading}\n\n${path}${comparisonMarkdown(result)}`,
    [COMPARISON_FILES.csv]: comparisonCsv(result),
    [COMPARISON_FILES.json]: `${JSON.stringify(document, null, 2)}\n`,
  };
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

/** Reads a run directory's record (`report.json`), or throws naming the file. */
export async function readRunRecord(dir: string): Promise<RunRecord> {
  const file = join(dir, REPORT_FILES.record);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`${file} does not exist: the directory is not the output of an ippro prune or compare run`);
  });
  const record = JSON.parse(text) as RunRecord;
  if ((record.kind !== 'prune' && record.kind !== 'compare') || !Array.isArray(record.facts) || record.table === undefined) {
    throw new Error(`${file} is not a run record`);
  }
  return record;
}

/** Writes the report page to `file` (its directory is created). */
export async function writeReportHtml(file: string, record: RunRecord): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderReportHtml(record));
}
