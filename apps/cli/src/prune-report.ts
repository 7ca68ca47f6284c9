import { buildPruneRecord, reportFiles } from '@ippro/report';
import type { ReadArtifact } from '@ippro/report';
import type { EffectiveConfig } from '@ippro/settings';
import type { PruneWorkflowResult } from '@ippro/workflow-core';
import type { PreparedInput } from './commands/prune';

/**
 * The report files (report.json, report.html) a prune run writes next to its summary. The
 * result is what matters: a report that cannot be made is a warning, never a failed run.
 */
export async function pruneReportFiles(
  { input, warnings }: Pick<PreparedInput, 'input' | 'warnings'>,
  result: PruneWorkflowResult,
  read: ReadArtifact,
  run: { values: { model?: string | undefined; data?: string | undefined; evalData?: string | undefined; finetuneData?: string | undefined }; config: EffectiveConfig },
): Promise<Record<string, string>> {
  try {
    const { model = '', data = '', evalData, finetuneData } = run.values;
    const facts: [string, string][] = [
      ['model', model],
      ['scoring data', data],
      ['fine-tuning data', finetuneData ?? data],
      ['evaluation data', evalData ?? data],
    ];
    return reportFiles(await buildPruneRecord(result, { input, read, facts, notes: warnings, config: run.config }));
  } catch (error) {
    process.stderr.write(`ippro prune: no report.html: ${(error as Error).message}\n`);
    return {};
  }
}
