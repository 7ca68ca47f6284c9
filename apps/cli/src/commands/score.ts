import { Command } from 'commander';
import { computeModelHash } from '@ippro/importance';
import type { ScoreRow, ScoreTable } from '@ippro/importance';
import type { ClassifierOutput } from '@ippro/models';
import { needsGradientStats, scoreModel } from '@ippro/pruning';
import { combineSets, required, toggle } from '@ippro/settings';
import { checkModelFits, LAYER_SETTINGS, loadModel, loadModelGraph, openDataset, resolveOutput, startBackend } from '../cli-inputs';
import { addSettings, asUsage, commandSettings } from '../command-settings';
import { MODEL_DATA_SETTINGS } from '../model-data-settings';
import { UsageError } from '../exit-codes';
import { modelWarnings, printWarnings } from '../model-warnings';
import { ProgressBar } from '../progress-bar';
import { checkTrajectorySteps, proscoreOf } from '../run-inputs';
import { PROSCORE_SETTINGS, PRUNE_INPUT_SETTINGS, RUN_INPUT_SETTINGS } from '../run-settings';
import { textTable } from '../text-table';

/** What `score` takes: the model and its scoring data, one criterion, and how PROscore is read. */
const SCORE_SETTINGS = combineSets(
  {
    model: RUN_INPUT_SETTINGS.model,
    data: { ...RUN_INPUT_SETTINGS.data, help: 'scoring data, e.g. cifar10:train[0:2000] or json:samples.json; required by the gradient criteria' },
    dataDir: RUN_INPUT_SETTINGS.dataDir,
    criterion: PRUNE_INPUT_SETTINGS.criterion,
    lambda: RUN_INPUT_SETTINGS.lambda,
    batchSize: { ...RUN_INPUT_SETTINGS.batchSize, help: 'scoring batch size' },
    seed: { ...RUN_INPUT_SETTINGS.seed, help: 'seed of the random criterion' },
    batchNormMode: RUN_INPUT_SETTINGS.batchNormMode,
    includeBias: RUN_INPUT_SETTINGS.includeBias,
    backend: RUN_INPUT_SETTINGS.backend,
    json: toggle({ help: 'print JSON instead of a table' }),
  },
  MODEL_DATA_SETTINGS,
  PROSCORE_SETTINGS,
  LAYER_SETTINGS,
);

export function scoreCommand(): Command {
  const command = addSettings(new Command('score').description('score every prunable group of a model, without pruning anything'), SCORE_SETTINGS);
  return command.action(async (_options: unknown, self: Command) => {
    const settings = commandSettings(self, SCORE_SETTINGS);
    const values = settings.values;
    const modelDir = asUsage(() => required(settings, 'model'));
    const { criterion } = values;
    if (values.lambda !== undefined && criterion !== 'proscore') throw new UsageError(`--lambda applies only to --criterion proscore, not '${criterion}'`);
    const proscore = proscoreOf(settings, values.proscoreReading === 'trajectory');
    if (proscore !== undefined && criterion !== 'proscore') throw new UsageError(`--proscore-reading, --proscore-order and --proscore-weight-decay read PROscore, not '${criterion}'`);
    await startBackend(values.backend, values.json);
    const model = await loadModel(modelDir);
    const graph = await loadModelGraph(model, modelDir, { strict: values.strictLayers, warn: true });
    const output = await resolveOutput(model, values.output, modelDir);
    const warnings = modelWarnings(model, modelDir);
    const dataOptions = {
      model,
      quiet: values.json,
      ...(values.dataDir === undefined ? {} : { dataDir: values.dataDir }),
      ...(values.normalize === undefined ? {} : { normalize: values.normalize }),
    };
    const dataset = values.data === undefined ? undefined : await openDataset(values.data, settings.where('data'), dataOptions);
    if (dataset !== undefined) checkModelFits(model, dataset, output, settings.where('data'), `model ${modelDir}`);
    if (needsGradientStats(criterion) && dataset === undefined) throw new UsageError(`--data: criterion '${criterion}' needs scoring data`);
    const scoring = { datasetId: values.data ?? 'none', batchSize: values.batchSize, batchNormMode: values.batchNormMode, includeBias: values.includeBias, modelHash: computeModelHash(model), output };
    if (dataset !== undefined) await checkTrajectorySteps(settings, () => dataset.size, values.batchSize);
    printWarnings(warnings);
    const bar = new ProgressBar(proscore?.reading === 'trajectory' ? 'trajectory steps' : 'scoring shards');
    const table = await scoreModel(
      model,
      graph,
      dataset,
      { criterion, seed: values.seed, ...(values.lambda === undefined ? {} : { lambda: values.lambda }), ...(proscore === undefined ? {} : { proscore }), scoring },
      (done, total) => bar.update(done, total),
    );
    bar.done();
    process.stdout.write(values.json ? `${JSON.stringify(tableJson(table, output), null, 2)}\n` : renderTable(table));
  });
}

/** The table as JSON, with the output kind the scores were computed for (its loss). */
function tableJson(table: ScoreTable, output: ClassifierOutput): object {
  return {
    method: table.method,
    output,
    rows: [...table.rows]
      .sort((a, b) => a.score - b.score || a.index - b.index)
      .map((row) => ({ ...row, score: jsonNumber(row.score), members: row.members.map((m) => `${m.layer}/${m.channel}`) })),
  };
}

/** JSON has no Infinity; a kept-forever score is written as the string "Infinity". */
function jsonNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function renderTable(table: ScoreTable): string {
  const ranked = [...table.rows].sort((a, b) => a.score - b.score || a.index - b.index);
  const proscore = table.method === 'proscore';
  const headers = ['rank', 'group', 'members', 'score', ...(proscore ? ['||F||', 'r', 'dL/dD'] : [])];
  const rows = ranked.map((row, rank) => [rank + 1, row.id, membersText(row), fixed(row.score), ...(proscore ? proscoreColumns(row) : [])]);
  return `${table.method}: ${ranked.length} prunable groups, lowest score removed first\n${textTable(headers, rows)}\n`;
}

function proscoreColumns(row: ScoreRow): string[] {
  return [fixed(row.fNorm ?? 0), fixed(row.r ?? 0), row.dLdD === null || row.dLdD === undefined ? '-' : fixed(row.dLdD)];
}

function membersText(row: ScoreRow): string {
  const names = row.members.map((member) => `${member.layer}/${member.channel}`);
  return names.length <= 3 ? names.join(' ') : `${names.slice(0, 2).join(' ')} +${names.length - 2}`;
}

function fixed(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(6) : String(value);
}
