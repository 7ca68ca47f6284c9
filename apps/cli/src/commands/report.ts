import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CompareResult } from '@ippro/compare';
import { RunNotFoundError, compareRunInputOf, pruneRunInputOf } from '@ippro/orchestration';
import { buildCompareRecord, buildPruneRecord, readRunRecord, writeReportHtml } from '@ippro/report';
import type { ReadArtifact, RunRecord } from '@ippro/report';
import type { PruneWorkflowResult } from '@ippro/workflow-core';
import { asBadInput, startBackend } from '../cli-inputs';
import { UsageError } from '../exit-codes';
import { addSettingOptions } from '@ippro/settings';
import { connectTarget, resolveTarget } from '../remote';
import type { RemoteFlags } from '../remote';
import { TARGET_SETTINGS, openRunArtifacts, storeFromSettings, targetSettings } from '../run-artifacts';

type ReportOptions = RemoteFlags & {
  out: string;
  backend: string;
  json?: boolean;
};

export function reportCommand(): Command {
  const command = new Command('report')
    .description(
      'write the self-contained HTML report of a run: RUN_OR_DIR is the --out directory of an ippro prune or compare run ' +
        '(its report.json), or the id of a finished run on a stack (its result and artifacts are read from the stack)',
    )
    .argument('<run-or-dir>', 'output directory of a run, or a run id')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu (recomputing scores of a run on a stack)', 'auto')
    .option('--json', 'print { report } (the file written) as JSON');
  return addSettingOptions(command, TARGET_SETTINGS).action(async (runOrDir: string, options: ReportOptions) => {
    const isDir = await stat(runOrDir).then((found) => found.isDirectory(), () => false);
    const record = isDir ? await asBadInput(runOrDir, () => readRunRecord(runOrDir)) : await recordOfRun(runOrDir, options);
    const file = resolve(options.out);
    await writeReportHtml(file, record);
    process.stdout.write(options.json === true ? `${JSON.stringify({ report: file })}\n` : `report: ${file}\n`);
  });
}

/** A run whose history holds no input is bad input. */
async function historyInput<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RunNotFoundError) throw new UsageError(error.message);
    throw error;
  }
}

async function recordOfRun(runId: string, options: ReportOptions): Promise<RunRecord> {
  const settings = targetSettings(options);
  const target = await resolveTarget(settings);
  const artifacts = await openRunArtifacts(storeFromSettings(settings), target.artifacts);
  const client = await connectTarget(target).catch((error: unknown) => {
    artifacts.close();
    throw error;
  });
  try {
    const handle = client.workflow.getHandle(runId);
    const description = await asBadInput(`run ${runId}`, () => handle.describe());
    if (description.status.name !== 'COMPLETED') throw new UsageError(`run ${runId} is ${description.status.name.toLowerCase()}; a report needs a completed run`);
    await startBackend(options.backend, true);
    const read: ReadArtifact = (id) => artifacts.get(id);
    const facts: [string, string][] = [['run', runId]];
    switch (description.type) {
      case 'pruneModel':
        return await buildPruneRecord((await handle.result()) as PruneWorkflowResult, { input: await historyInput(() => pruneRunInputOf(client, runId)), read, facts });
      case 'compareCriteria':
        return await buildCompareRecord((await handle.result()) as CompareResult, { input: await historyInput(() => compareRunInputOf(client, runId)), read, facts });
      default:
        throw new UsageError(`run ${runId} is a '${description.type}' workflow; reports cover pruneModel and compareCriteria runs`);
    }
  } finally {
    artifacts.close();
    await client.connection.close();
  }
}
