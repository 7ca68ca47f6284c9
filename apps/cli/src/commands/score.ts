import { Command } from 'commander';
import { computeModelHash, DEFAULT_LAMBDA } from '@ippro/importance';
import type { ScoreRow, ScoreTable } from '@ippro/importance';
import { needsGradientStats, parseCriterion, scoreModel } from '@ippro/pruning';
import type { Criterion } from '@ippro/pruning';
import { addSettingOptions } from '@ippro/settings';
import {
  asBadInput,
  checkModelFits,
  isPositive,
  isPositiveInteger,
  LAYER_SETTINGS,
  loadModel,
  loadModelGraph,
  openDataset,
  parseNumberFlag,
  resolveOutput,
  startBackend,
} from '../cli-inputs';
import { commandSettings } from '../command-settings';
import { MODEL_DATA_SETTINGS } from '../model-data-settings';
import { UsageError } from '../exit-codes';
import { ProgressBar } from '../progress-bar';
import { textTable } from '../text-table';

interface ScoreOptions {
  model: string;
  data?: string;
  dataDir?: string;
  criterion: string;
  lambda?: string;
  batchSize: string;
  seed: string;
  batchNormMode: string;
  includeBias?: boolean;
  json?: boolean;
  backend: string;
}

export function scoreCommand(): Command {
  const command = new Command('score')
    .description('score every prunable group of a model, without pruning anything')
    .requiredOption('--model <dir>', 'model directory (model.json + weights)')
    .option('--data <spec>', 'scoring data, e.g. cifar10:train[0:2000] or json:samples.json')
    .option('--data-dir <dir>', 'directory holding the CIFAR-10 .bin files')
    .option('--criterion <name>', 'proscore | l1 | l2 | taylor | bn | random', 'proscore')
    .option('--lambda <value>', `PROscore step size (default ${DEFAULT_LAMBDA})`)
    .option('--batch-size <n>', 'scoring batch size', '64')
    .option('--seed <n>', 'seed of the random criterion', '0')
    .option('--batch-norm-mode <mode>', 'inference (moving statistics) | batch', 'inference')
    .option('--include-bias', 'count biases in each group\'s weights F')
    .option('--json', 'print JSON instead of a table')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto');
  return addSettingOptions(addSettingOptions(command, MODEL_DATA_SETTINGS), LAYER_SETTINGS).action(async (options: ScoreOptions, self: Command) => {
    const criterion = await asBadInput('--criterion', () => parseCriterion(options.criterion));
    const settings = parseSettings(options, criterion);
    const { output: outputSetting, normalize } = commandSettings(self, MODEL_DATA_SETTINGS).values;
    await startBackend(options.backend, options.json === true);
    const model = await loadModel(options.model);
    const { strictLayers } = commandSettings(self, LAYER_SETTINGS).values;
    const graph = await loadModelGraph(model, options.model, { strict: strictLayers, warn: true });
    const output = await resolveOutput(model, outputSetting, options.model);
    const dataOptions = { model, quiet: options.json === true, ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }), ...(normalize === undefined ? {} : { normalize }) };
    const dataset = options.data === undefined ? undefined : await openDataset(options.data, '--data', dataOptions);
    if (dataset !== undefined) checkModelFits(model, dataset, output, '--data', `model ${options.model}`);
    if (needsGradientStats(criterion) && dataset === undefined) {
      await asBadInput('--data', () => {
        throw new Error(`criterion '${criterion}' needs scoring data`);
      });
    }
    const bar = new ProgressBar('scoring shards');
    const table = await scoreModel(model, graph, dataset, {
      criterion,
      seed: settings.seed,
      ...(settings.lambda === undefined ? {} : { lambda: settings.lambda }),
      scoring: {
        datasetId: options.data ?? 'none',
        batchSize: settings.batchSize,
        batchNormMode: settings.batchNormMode,
        includeBias: options.includeBias === true,
        modelHash: computeModelHash(model),
        output,
      },
    }, (done, total) => bar.update(done, total));
    bar.done();
    process.stdout.write(options.json ? `${JSON.stringify(tableJson(table), null, 2)}\n` : renderTable(table));
  });
}

interface ScoreSettings {
  lambda?: number;
  batchSize: number;
  seed: number;
  batchNormMode: 'inference' | 'batch';
}

function parseSettings(options: ScoreOptions, criterion: Criterion): ScoreSettings {
  const mode = options.batchNormMode;
  if (mode !== 'inference' && mode !== 'batch') {
    throw new UsageError(`--batch-norm-mode must be inference or batch, got '${mode}'`);
  }
  if (options.lambda !== undefined && criterion !== 'proscore') {
    throw new UsageError(`--lambda applies only to --criterion proscore, not '${criterion}'`);
  }
  return {
    ...(options.lambda === undefined
      ? {}
      : { lambda: parseNumberFlag('--lambda', options.lambda, isPositive, 'a positive number') }),
    batchSize: parseNumberFlag('--batch-size', options.batchSize, isPositiveInteger, 'a positive integer'),
    seed: parseNumberFlag('--seed', options.seed, Number.isInteger, 'an integer'),
    batchNormMode: mode,
  };
}

function tableJson(table: ScoreTable): object {
  return {
    method: table.method,
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
