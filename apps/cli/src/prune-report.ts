import { buildPruneRecord, reportFiles } from '@ippro/report';
import type { ReadArtifact } from '@ippro/report';
import type { PruneWorkflowInput, PruneWorkflowResult } from '@ippro/workflow-core';

/**
 * The report files (report.json, report.html) a prune run writes next to its summary. The
 * result is what matters: a report that cannot be made is a warning, never a failed run.
 */
export async function pruneReportFiles(
  input: PruneWorkflowInput,
  result: PruneWorkflowResult,
  read: ReadArtifact,
  given: { model: string; data: string; evalData?: string },
): Promise<Record<string, string>> {
  try {
    const facts: [string, string][] = [
      ['model', given.model],
      ['scoring data', given.data],
      ['fine-tuning data', given.data],
      ['evaluation data', given.evalData ?? given.data],
    ];
    return reportFiles(await buildPruneRecord(result, { input, read, facts }));
  } catch (error) {
    process.stderr.write(`ippro prune: no report.html: ${(error as Error).message}\n`);
    return {};
  }
}
