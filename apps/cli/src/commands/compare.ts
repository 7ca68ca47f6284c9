import { Command } from 'commander';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCompareInProcess } from '@ippro/activities';
import { ArtifactStore, artifactKeyOf } from '@ippro/artifacts';
import { comparisonTableText, needsScoringPass, parseCriteriaList, parseFractionList, resolveCompareSettings } from '@ippro/compare';
import type { CompareInput, CompareProgress, CompareResult } from '@ippro/compare';
import { buildChannelGraph } from '@ippro/graph';
import { DEFAULT_LAMBDA } from '@ippro/importance';
import { modelToArtifact } from '@ippro/model-artifact';
import { RunIdTakenError, checkRunIdFree, queryCompareProgress, startCompare } from '@ippro/orchestration';
import { buildCompareRecord, comparisonFiles, reportFiles, writeFiles } from '@ippro/report';
import type { ReadArtifact } from '@ippro/report';
import type { TargetMetricName } from '@ippro/workflow-core';
import { asBadInput, checkOutputDir, isNonNegativeInteger, isPositive, isPositiveInteger, loadModel, parseNumberFlag, startBackend } from '../cli-inputs';
import { datasetRefMaker } from '../dataset-refs';
import { UsageError } from '../exit-codes';
import { ProgressBar } from '../progress-bar';
import { addRemoteFlags, connectTarget, resolveTarget } from '../remote';
import type { RemoteFlags } from '../remote';
import { addStoreFlags, openRunArtifacts, storeFromFlags } from '../run-artifacts';
import type { StoreFlags } from '../run-artifacts';
import { textTable } from '../text-table';

interface CompareOptions extends RemoteFlags, StoreFlags {
  local?: boolean;
  model: string;
  data: string;
  evalData?: string;
  finetuneData?: string;
  dataDir?: string;
  criteria: string;
  targetFlops?: string;
  targetParams?: string;
  finetuneSteps: string;
  finetuneLr: string;
  seeds: string;
  lambda?: string;
  ranking: string;
  maxLayerRatio: string;
  minChannels: string;
  batchNormMode: string;
  includeBias?: boolean;
  batchSize: string;
  evalBatchSize: string;
  scoreShards: string;
  layerShards: string;
  maxParallel: string;
  seed: string;
  out: string;
  json?: boolean;
  backend: string;
  runId?: string;
}

export function compareCommand(): Command {
  const command = new Command('compare')
    .description(
      'compare pruning criteria on one model: one scoring pass, then every criterion at every target, one-shot, ' +
        'top-1 before and after fine-tuning; writes compare.md, compare.csv, compare.json and report.html to --out. ' +
        "Without --local the comparison runs on a stack ('ippro dev', or --temporal for a cluster)",
    )
    .option('--local', 'run everything in this process (no Temporal, no workers): the same activities, the same numbers')
    .requiredOption('--model <dir>', 'model directory (model.json + weights)')
    .requiredOption('--data <spec>', 'scoring and fine-tuning data, e.g. cifar10:train[0:2560]')
    .option('--eval-data <spec>', 'evaluation data (default: the --data spec)')
    .option('--finetune-data <spec>', 'fine-tuning data (default: the --data spec)')
    .option('--data-dir <dir>', 'directory holding the CIFAR-10 .bin files')
    .option('--criteria <list>', 'comma-separated: proscore, l2, l1, taylor, bn, random', 'proscore,l2,l1,taylor,bn,random')
    .option('--target-flops <list>', 'fractions of FLOPs to remove, e.g. 0.3,0.5,0.7 (the default)')
    .option('--target-params <list>', 'fractions of parameters to remove, instead of --target-flops')
    .option('--finetune-steps <k>', 'SGD steps after pruning, each pruned model (0: no fine-tuning)', '0')
    .option('--finetune-lr <rate>', 'fine-tuning learning rate', '0.01')
    .option('--seeds <n>', 'runs of the random criterion (mean and standard deviation over them)', '1')
    .option('--lambda <value>', `PROscore step size (default ${DEFAULT_LAMBDA})`)
    .option('--ranking <name>', 'global | uniform (per layer)', 'global')
    .option('--max-layer-ratio <fraction>', "most of a layer's channels that may go", '0.9')
    .option('--min-channels <n>', 'fewest channels a layer keeps', '1')
    .option('--batch-norm-mode <mode>', 'batch normalization during scoring: inference | batch', 'inference')
    .option('--include-bias', 'include each unit\'s bias in F (PROscore, magnitudes, Taylor)')
    .option('--batch-size <n>', 'scoring and fine-tuning batch size', '64')
    .option('--eval-batch-size <n>', 'evaluation batch size', '250')
    .option('--score-shards <n>', 'batch shards of the scoring pass and of evaluation (merged exactly)', '1')
    .option('--layer-shards <n>', 'group shards of the scoring pass (merged exactly)', '1')
    .option('--max-parallel <n>', 'pruned models worked on at once', '4')
    .option('--seed <n>', 'seed of fine-tuning and of the random criterion', '0')
    .requiredOption('--out <dir>', 'new directory for the tables and the report')
    .option('--json', 'print the result as JSON on stdout')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu (this process: --local compute, model checks)', 'auto')
    .option('--run-id <id>', 'workflow id of the comparison (default compare-<time>-<random>)');
  return addStoreFlags(addRemoteFlags(command)).action(async (options: CompareOptions) => {
    const prepared = await prepareInput(options);
    const started = Date.now();
    const { result, read, finish } = options.local === true ? await runLocal(prepared, options) : await runDistributed(prepared, options);
    try {
      await writeOutputs(options, prepared.input, result, read, (Date.now() - started) / 1000);
    } finally {
      await finish();
    }
    process.stdout.write(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${screenTable(result)}\n`);
  });
}

interface PreparedInput {
  input: CompareInput;
  artifacts: Uint8Array[];
}

function targetFlags(options: CompareOptions): { metric: TargetMetricName; targets: number[] } {
  if (options.targetFlops !== undefined && options.targetParams !== undefined) throw new UsageError('give one of --target-flops, --target-params');
  const flag = options.targetParams === undefined ? '--target-flops' : '--target-params';
  const text = options.targetParams ?? options.targetFlops ?? '0.3,0.5,0.7';
  const targets = parseList(() => parseFractionList(text, flag));
  return { metric: options.targetParams === undefined ? 'flops' : 'params', targets };
}

function parseList<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return match;
}

/** Checks every flag, the model and the datasets; nothing is written or started before this succeeds. */
async function prepareInput(options: CompareOptions): Promise<PreparedInput> {
  const criteria = parseList(() => parseCriteriaList(options.criteria));
  const { metric, targets } = targetFlags(options);
  const positiveInt = (flag: string, value: string): number => parseNumberFlag(flag, value, isPositiveInteger, 'a positive integer');
  const numbers = {
    finetuneSteps: parseNumberFlag('--finetune-steps', options.finetuneSteps, isNonNegativeInteger, 'a non-negative integer'),
    finetuneLr: parseNumberFlag('--finetune-lr', options.finetuneLr, isPositive, 'a positive number'),
    seeds: positiveInt('--seeds', options.seeds),
    lambda: options.lambda === undefined ? undefined : parseNumberFlag('--lambda', options.lambda, isPositive, 'a positive number'),
    maxLayerRatio: parseNumberFlag('--max-layer-ratio', options.maxLayerRatio, (n) => n > 0 && n <= 1, 'a fraction in (0, 1]'),
    minChannels: positiveInt('--min-channels', options.minChannels),
    batchSize: positiveInt('--batch-size', options.batchSize),
    evalBatchSize: positiveInt('--eval-batch-size', options.evalBatchSize),
    scoreShards: positiveInt('--score-shards', options.scoreShards),
    layerShards: positiveInt('--layer-shards', options.layerShards),
    maxParallel: positiveInt('--max-parallel', options.maxParallel),
    seed: parseNumberFlag('--seed', options.seed, isNonNegativeInteger, 'a non-negative integer'),
  };
  const ranking = oneOf('--ranking', options.ranking, ['global', 'uniform'] as const);
  const batchNormMode = oneOf('--batch-norm-mode', options.batchNormMode, ['inference', 'batch'] as const);
  await checkOutputDir(options.out);
  await startBackend(options.backend, options.json === true);
  const model = await loadModel(options.model);
  let modelBytes: Uint8Array;
  try {
    await asBadInput(`model ${options.model}`, () => buildChannelGraph(model));
    modelBytes = await asBadInput(`model ${options.model}`, () => modelToArtifact(model));
  } finally {
    model.dispose();
  }
  const artifacts: Uint8Array[] = [modelBytes];
  const datasetRef = datasetRefMaker({ local: options.local === true, ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }) }, artifacts);
  const data = await datasetRef(options.data, '--data');
  const evaluation = options.evalData === undefined ? data : await datasetRef(options.evalData, '--eval-data');
  const tuning = options.finetuneData === undefined || numbers.finetuneSteps === 0 ? data : await datasetRef(options.finetuneData, '--finetune-data');
  const scoring = { dataset: data, batchSize: numbers.batchSize, batchNormMode, ...(options.includeBias === true ? { includeBias: true } : {}) };
  const input: CompareInput = {
    modelArtifactId: artifactKeyOf(modelBytes),
    criteria,
    targets,
    metric,
    ...(numbers.lambda === undefined ? {} : { lambda: numbers.lambda }),
    // The weight-only criteria read the scoring settings too, for whether F includes biases.
    ...(criteria.some(needsScoringPass) || options.includeBias === true ? { scoring } : {}),
    ...(numbers.finetuneSteps > 0
      ? { fineTune: { dataset: tuning, batchSize: numbers.batchSize, steps: numbers.finetuneSteps, learningRate: numbers.finetuneLr, weightDecay: 5e-4 } }
      : {}),
    evaluation: { dataset: evaluation, batchSize: numbers.evalBatchSize },
    plan: { ranking, maxLayerRatio: numbers.maxLayerRatio, minChannels: numbers.minChannels },
    randomSeeds: numbers.seeds,
    seed: numbers.seed,
    shards: { batchShards: numbers.scoreShards, layerShards: numbers.layerShards, maxParallel: numbers.maxParallel },
  };
  parseList(() => resolveCompareSettings(input));
  return { input, artifacts };
}

interface Finished {
  result: CompareResult;
  read: ReadArtifact;
  /** Releases what `read` needs (a temporary store, a connection). */
  finish: () => Promise<void>;
}

function progressLine(bar: ProgressBar): (progress: CompareProgress) => void {
  return (progress) => bar.update(progress.done, progress.total, `${progress.phase}, ${progress.rowsDone}/${progress.rowsTotal} pruned models`);
}

async function runLocal(prepared: PreparedInput, options: CompareOptions): Promise<Finished> {
  const root = await mkdtemp(join(tmpdir(), 'ippro-compare-'));
  const finish = (): Promise<void> => rm(root, { recursive: true, force: true });
  try {
    const store = await ArtifactStore.open({ root, fsync: false });
    for (const bytes of prepared.artifacts) await store.put(bytes);
    const bar = new ProgressBar('comparing');
    const result = await runCompareInProcess(prepared.input, {
      store,
      ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }),
      onProgress: progressLine(bar),
    });
    bar.done();
    return { result, read: (id) => store.get(id), finish };
  } catch (error) {
    await finish();
    throw error;
  }
}

async function runDistributed(prepared: PreparedInput, options: CompareOptions): Promise<Finished> {
  const target = await resolveTarget(options);
  const artifacts = await openRunArtifacts(storeFromFlags(options), target.artifacts);
  const client = await connectTarget(target).catch((error: unknown) => {
    artifacts.close();
    throw error;
  });
  const finish = async (): Promise<void> => {
    artifacts.close();
    await client.connection.close();
  };
  try {
    const workflowId = options.runId ?? `compare-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    await runIdIsFree(() => checkRunIdFree(client, workflowId));
    await asBadInput(artifacts.description, async () => {
      for (const bytes of prepared.artifacts) await artifacts.put(bytes);
    });
    const handle = await runIdIsFree(() => startCompare(client, prepared.input, { workflowId, taskQueue: target.taskQueue }));
    process.stderr.write(`comparison ${workflowId} started on ${target.address} (task queue ${target.taskQueue})\n`);
    const bar = new ProgressBar('comparing');
    const show = progressLine(bar);
    let settled = false;
    const resultPromise = handle.result().finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([resultPromise.catch(() => undefined), new Promise((wake) => setTimeout(wake, 500))]);
      if (!settled) show(await queryCompareProgress(handle).catch(() => ({ phase: 'baseline' as const, done: 0, total: 0, rowsDone: 0, rowsTotal: 0 })));
    }
    bar.done();
    const result = await resultPromise;
    return { result, read: (id) => artifacts.get(id), finish };
  } catch (error) {
    await finish();
    throw error;
  }
}

/** A RunIdTakenError becomes bad input (--run-id). */
async function runIdIsFree<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RunIdTakenError) throw new UsageError(`--run-id: ${error.message}`);
    throw error;
  }
}

function commandLine(): string {
  const quote = (arg: string): string => (/^[\w@%+=:,./[\]-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  return ['ippro', ...process.argv.slice(2)].map(quote).join(' ');
}

/** Tables and the report, written to a staging directory next to --out and renamed when complete. */
async function writeOutputs(options: CompareOptions, input: CompareInput, result: CompareResult, read: ReadArtifact, seconds: number): Promise<void> {
  const out = resolve(options.out);
  const facts: [string, string][] = [
    ['model', options.model],
    ['scoring data', options.data],
    ...(input.fineTune === undefined ? [] : [['fine-tuning data', options.finetuneData ?? options.data] as [string, string]]),
    ['evaluation data', options.evalData ?? options.data],
    ['command', commandLine()],
    ['wall time', `${seconds.toFixed(1)} s`],
  ];
  const record = await buildCompareRecord(result, { input, read, facts, title: `ippro compare: ${basename(options.model)}` });
  const heading = `ippro compare: ${options.model}, evaluated on ${options.evalData ?? options.data}`;
  const intro = facts.map(([name, value]) => `- ${name}: \`${value}\``).join('\n');
  const files = comparisonFiles(result, heading);
  files['compare.md'] = (files['compare.md'] ?? '').replace(/\n\n/, `\n\n${intro}\n\n`);
  const staging = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await writeFiles(staging, { ...files, ...reportFiles(record) });
    await rm(out, { recursive: true, force: true });
    await rename(staging, out);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

function screenTable(result: CompareResult): string {
  const { headers, rows } = comparisonTableText(result);
  return textTable(headers, rows);
}
