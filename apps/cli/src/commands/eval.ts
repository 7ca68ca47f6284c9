import { Command } from 'commander';
import { evaluateDataset } from '@ippro/models';
import type { ClassifierOutput } from '@ippro/models';
import { addSettingOptions } from '@ippro/settings';
import { asBadInput, checkModelFits, isPositiveInteger, loadModel, openDataset, parseNumberFlag, resolveOutput, startBackend } from '../cli-inputs';
import { commandSettings } from '../command-settings';
import { MODEL_DATA_SETTINGS } from '../model-data-settings';
import { ProgressBar } from '../progress-bar';
import { formatPercent } from '../text-table';
import { defaultSplit } from './dataset-flags';
import { accuracyName } from '@ippro/workflow-core';

interface EvalOptions {
  model: string;
  data: string;
  dataDir?: string;
  batchSize: string;
  json?: boolean;
  backend: string;
}

export interface EvalReport {
  model: string;
  data: string;
  /** The model's output kind, which picked the loss and what a hit is. */
  output: ClassifierOutput;
  /** What `top1` counts: 'top-1', or 'exact match' for a sigmoid (every unit right at 0.5). */
  accuracy: ReturnType<typeof accuracyName>;
  count: number;
  correct: number;
  top1: number;
  loss: number;
}

export function evalCommand(): Command {
  const command = new Command('eval')
    .description('accuracy (top-1, or exact match for a sigmoid output) and mean loss of a model on a dataset')
    .requiredOption('--model <dir>', 'model directory (model.json + weights)')
    .option('--data <spec>', 'evaluation data; cifar10 means cifar10:test', 'cifar10:test')
    .option('--data-dir <dir>', 'directory holding the CIFAR-10 .bin files')
    .option('--batch-size <n>', 'evaluation batch size', '250')
    .option('--json', 'print the result as JSON on stdout')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto');
  return addSettingOptions(command, MODEL_DATA_SETTINGS).action(async (options: EvalOptions, self: Command) => {
    const batchSize = parseNumberFlag('--batch-size', options.batchSize, isPositiveInteger, 'a positive integer');
    const { output: outputSetting, normalize } = commandSettings(self, MODEL_DATA_SETTINGS).values;
    await startBackend(options.backend, options.json === true);
    const model = await loadModel(options.model);
    const output = await resolveOutput(model, outputSetting, options.model);
    const data = await openDataset(defaultSplit(options.data, 'test'), '--data', {
      model,
      quiet: options.json === true,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(normalize === undefined ? {} : { normalize }),
    });
    checkModelFits(model, data, output, '--data', `model ${options.model}`);
    // The first batch reads the dataset's files: a missing or corrupt file is bad input.
    await asBadInput('--data', () => (data.multiHotLabel === undefined ? data.label(0) : data.multiHotLabel(0)));
    const bar = new ProgressBar('evaluating');
    const sums = await evaluateDataset(model, data, { batchSize, output, afterBatch: (done, total) => bar.update(done, total) });
    bar.done();
    const report: EvalReport = {
      model: options.model,
      data: data.description,
      output,
      accuracy: accuracyName(output),
      count: sums.count,
      correct: sums.correct,
      top1: sums.correct / sums.count,
      loss: sums.lossSum / sums.count,
    };
    process.stdout.write(
      options.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : `${report.data}: ${report.accuracy} accuracy ${formatPercent(report.top1)} (${report.correct}/${report.count}), loss ${report.loss.toFixed(4)}\n`,
    );
  });
}
