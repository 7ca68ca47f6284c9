import { basename } from 'node:path';
import { publishDirectory } from '@ippro/artifact-store';
import type { CompareInput, CompareResult } from '@ippro/compare';
import { buildCompareRecord, comparisonFiles, reportFiles, writeFiles } from '@ippro/report';
import type { ReadArtifact } from '@ippro/report';
import type { DatasetRef } from '@ippro/workflow-core';
import { datasetFacts } from './dataset-refs';
import { skippedRecalibrationFacts } from './run-inputs';
import { specOfGiven } from './run-submission';
import type { RunSubmission } from './run-submission';

/**
 * A finished comparison, all its --out directory is written from: `ippro compare` (local or on a
 * stack) and `ippro watch --out` write it with the same function, so their files are the same.
 */
export interface FinishedComparison {
  input: CompareInput;
  result: CompareResult;
  /** Reads the run's artifacts: the models and statistics the report plots. */
  read: ReadArtifact;
  /** What the submitting command knew beyond the input; undefined for a run started without it (an older ippro). */
  submission: RunSubmission | undefined;
  /** How long the comparison took. */
  seconds: number;
}

/** A run's wall time on its stack: from its start to its close (to now while it runs). */
export function wallSeconds(run: { startTime: Date; closeTime?: Date | undefined }): number {
  return ((run.closeTime ?? new Date()).getTime() - run.startTime.getTime()) / 1000;
}

/** What a comparison's files lack when its submission is unknown. */
export const COMPARE_SUBMISSION_FIELDS = ['config', 'warnings', 'command line', 'model'];

/** --test-data as given; without a submission, the test set's own name. */
function testDataOf(run: FinishedComparison, specOf: (ref: DatasetRef) => string): string | undefined {
  if (run.submission !== undefined) return run.submission.testData;
  return run.input.test === undefined ? undefined : specOf(run.input.test.dataset);
}

/** The facts the tables and the report open with: the model, the data as given, the command line, the wall time. */
function comparisonFacts(run: FinishedComparison, specOf: (ref: DatasetRef) => string, testData: string | undefined): [string, string][] {
  const { input, submission } = run;
  return [
    ...(submission === undefined ? [] : [['model', submission.model] as [string, string]]),
    ...datasetFacts(input, specOf),
    ...skippedRecalibrationFacts(input, submission?.config),
    ...(testData === undefined ? [] : [['test data', testData] as [string, string]]),
    ...(submission === undefined ? [] : [['command', submission.command] as [string, string]]),
    ['wall time', `${run.seconds.toFixed(1)} s`],
  ];
}

/** compare.md, compare.csv, compare.json and the report, written to a staging directory next to `out` and renamed when complete. */
export async function writeCompareOutput(out: string, run: FinishedComparison): Promise<void> {
  const { input, result, read, submission } = run;
  const specOf = specOfGiven(submission?.datasets);
  const testData = testDataOf(run, specOf);
  const facts = comparisonFacts(run, specOf, testData);
  const config = submission?.config;
  const warnings = submission?.warnings ?? [];
  const record = await buildCompareRecord(result, {
    input,
    read,
    facts,
    ...(submission === undefined ? {} : { title: `ippro compare: ${basename(submission.model)}` }),
    ...(config === undefined ? {} : { config }),
    notes: warnings,
  });
  const tested = testData === undefined ? '' : ` (choices), tested on ${testData} (test columns)`;
  const model = submission === undefined ? '' : `${submission.model}, `;
  const heading = `ippro compare: ${model}evaluated on ${specOf(input.evaluation.dataset)}${tested}`;
  const intro = facts.map(([name, value]) => `- ${name}: \`${value}\``).join('\n');
  const files = comparisonFiles(result, heading, config, warnings);
  files['compare.md'] = (files['compare.md'] ?? '').replace(/\n\n/, `\n\n${intro}\n\n`);
  await publishDirectory(out, (dir) => writeFiles(dir, { ...files, ...reportFiles(record) }));
}
