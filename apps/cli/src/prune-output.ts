import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputTakenError, publishDirectory } from '@ippro/artifact-store';
import { writeModelArtifactToDir } from '@ippro/model-artifact';
import { buildPruneRecord, reportFiles } from '@ippro/report';
import type { ReadArtifact } from '@ippro/report';
import type { EffectiveConfig } from '@ippro/settings';
import type { PruneWorkflowInput, PruneWorkflowResult } from '@ippro/workflow-core';
import { datasetFacts } from './dataset-refs';
import { skippedRecalibrationFacts } from './run-inputs';
import { specOfGiven } from './run-submission';
import type { RunSubmission } from './run-submission';

/**
 * A finished prune run, all its --out directory is written from: `ippro prune` (local or on a
 * stack) and `ippro watch --out` write it with the same function, so their files are the same.
 */
export interface FinishedPrune {
  input: PruneWorkflowInput;
  result: PruneWorkflowResult;
  /** Reads the run's artifacts: the pruned model, and the models and statistics the report plots. */
  read: ReadArtifact;
  /** What the submitting command knew beyond the input; undefined for a run started without it (an older ippro). */
  submission: RunSubmission | undefined;
}

/** What summary.json holds: the run's result, its effective configuration, and what looked wrong with its model. */
export type PruneSummary = PruneWorkflowResult & { config?: EffectiveConfig; warnings?: string[] };

/** What a prune run's files lack when its submission is unknown. */
export const PRUNE_SUBMISSION_FIELDS = ['config and warnings of summary.json', "the report's model"];

export function pruneSummary(run: Pick<FinishedPrune, 'result' | 'submission'>): PruneSummary {
  const { result, submission } = run;
  if (submission === undefined) return result;
  return { ...result, config: submission.config, ...(submission.warnings.length === 0 ? {} : { warnings: submission.warnings }) };
}

/**
 * The report files (report.json, report.html) a prune run writes next to its summary. The
 * result is what matters: a report that cannot be made is a warning, never a failed run.
 */
export async function pruneReportFiles(run: FinishedPrune): Promise<Record<string, string>> {
  const { input, result, read, submission } = run;
  try {
    const facts: [string, string][] = [
      ...(submission === undefined ? [] : [['model', submission.model] as [string, string]]),
      ...datasetFacts(input, specOfGiven(submission?.datasets)),
      ...skippedRecalibrationFacts(input, submission?.config),
    ];
    return reportFiles(
      await buildPruneRecord(result, {
        input,
        read,
        facts,
        ...(submission === undefined ? {} : { notes: submission.warnings, config: submission.config }),
      }),
    );
  } catch (error) {
    process.stderr.write(`ippro: no report.html: ${(error as Error).message}\n`);
    return {};
  }
}

/**
 * Writes a prune run's --out directory: the pruned model (model.json, weights.bin), summary.json
 * and the report. `kept` says where the pruned model stays when `out` cannot be written.
 */
export async function writePruneOutput(out: string, run: FinishedPrune, kept: string): Promise<void> {
  const modelBytes = await run.read(run.result.modelArtifactId);
  const report = await pruneReportFiles(run);
  await publishResult(out, modelBytes, pruneSummary(run), report, kept);
}

/** Where a run on a stack keeps its pruned model (for the message when `out` cannot be written). */
export function keptOnStack(store: string, runId: string): string {
  return `${store}, where it stays ('ippro status ${runId} --json' names it as progress.currentModelArtifactId)`;
}

/**
 * Staged next to `out`, fsynced and renamed into place (or moved into an empty `out`, summary.json
 * last): `out` never holds a half-written result and is never deleted. When that fails, the error
 * says where the result is: the staging directory when it is complete, else the run's store
 * (`kept`), which keeps the pruned model under its id.
 */
async function publishResult(out: string, modelBytes: Uint8Array, summary: PruneSummary, report: Record<string, string>, kept: string): Promise<void> {
  try {
    await publishDirectory(
      out,
      async (dir) => {
        writeModelArtifactToDir(modelBytes, dir);
        await writeFile(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
        for (const [name, content] of Object.entries(report)) await writeFile(join(dir, name), content);
      },
      { last: ['summary.json'] },
    );
  } catch (error) {
    if (error instanceof OutputTakenError) throw new Error(`cannot publish the result to --out: ${error.message}`, { cause: error });
    throw new Error(`cannot write the result to --out ${out}: ${(error as Error).message}; the pruned model is artifact ${summary.modelArtifactId} in ${kept}`, { cause: error });
  }
}
