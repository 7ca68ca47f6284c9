import { Command } from 'commander';
import { evaluateDataset, modelDataMismatch } from '@ippro/models';
import { asBadInput, isPositiveInteger, loadModel, openDataset, parseNumberFlag, startBackend } from '../cli-inputs';
import { UsageError } from '../exit-codes';
import { ProgressBar } from '../progress-bar';
import { formatPercent } from '../text-table';
import { defaultSplit } from './dataset-flags';

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
  count: number;
  correct: number;
  top1: number;
  loss: number;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('top-1 accuracy and mean cross-entropy of a model on a dataset')
    .requiredOption('--model <dir>', 'model directory (model.json + weights)')
    .option('--data <spec>', 'evaluation data; cifar10 means cifar10:test', 'cifar10:test')
    .option('--data-dir <dir>', 'directory holding the CIFAR-10 .bin files')
    .option('--batch-size <n>', 'evaluation batch size', '250')
    .option('--json', 'print the result as JSON on stdout')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto')
    .action(async (options: EvalOptions) => {
      const batchSize = parseNumberFlag('--batch-size', options.batchSize, isPositiveInteger, 'a positive integer');
      await startBackend(options.backend, options.json === true);
      const model = await loadModel(options.model);
      const data = await openDataset(defaultSplit(options.data, 'test'), '--data', options.dataDir);
      const mismatch = modelDataMismatch(model, data);
      if (mismatch !== undefined) throw new UsageError(`model ${options.model} does not fit --data ${data.description}: ${mismatch}`);
      // The first batch reads the dataset's files: a missing or corrupt file is bad input.
      await asBadInput('--data', () => data.label(0));
      const bar = new ProgressBar('evaluating');
      const sums = await evaluateDataset(model, data, { batchSize, afterBatch: (done, total) => bar.update(done, total) });
      bar.done();
      const report: EvalReport = {
        model: options.model,
        data: data.description,
        count: sums.count,
        correct: sums.correct,
        top1: sums.correct / sums.count,
        loss: sums.lossSum / sums.count,
      };
      process.stdout.write(
        options.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : `${report.data}: top-1 accuracy ${formatPercent(report.top1)} (${report.correct}/${report.count}), loss ${report.loss.toFixed(4)}\n`,
      );
    });
}
