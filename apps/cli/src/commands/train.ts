import { Command } from 'commander';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildModel, modelDataMismatch, MODEL_ARCHITECTURES, SCHEDULE_KINDS } from '@ippro/models';
import type { ScheduleKind } from '@ippro/models';
import { activeRuntime } from '@ippro/runtime';
import {
  checkpointDirOf,
  defaultProcessCount,
  findCheckpoint,
  readCheckpoint,
  readCheckpointState,
  trainEpochs,
  validateTrainConfig,
} from '@ippro/training';
import type { Checkpoint, EpochRecord, TrainConfig, TrainEvent } from '@ippro/training';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  asBadInput,
  checkOutputDir,
  isNonNegativeInteger,
  isPositive,
  isPositiveInteger,
  openDataset,
  parseNumberFlag,
  startBackend,
} from '../cli-inputs';
import { UsageError } from '../exit-codes';
import { ProgressBar } from '../progress-bar';
import { formatPercent, textTable } from '../text-table';
import { defaultSplit } from './dataset-flags';

interface TrainOptions {
  arch?: string;
  widthMultiplier?: string;
  data: string;
  evalData?: string;
  dataDir?: string;
  epochs?: string;
  batch: string;
  lr: string;
  schedule: string;
  warmupEpochs: string;
  milestones?: string;
  gamma: string;
  minLr: string;
  momentum: string;
  weightDecay: string;
  nesterov?: boolean;
  labelSmoothing: string;
  augment: boolean;
  seed: string;
  evalBatchSize: string;
  out: string;
  resume?: boolean;
  stopAfterEpoch?: string;
  json?: boolean;
  backend: string;
  processes: string;
}

export const LOG_FILE = 'train-log.jsonl';
export const SUMMARY_FILE = 'summary.json';
export const MODEL_DIR = 'model';
/** More processes than this would only share the cores of one machine more thinly. */
const MAX_PROCESSES = 16;

/** Flags that define the run: on --resume, any of them given must agree with the checkpoint. */
const RUN_FLAGS = [
  'arch', 'widthMultiplier', 'data', 'evalData', 'epochs', 'batch', 'lr', 'schedule', 'warmupEpochs', 'milestones',
  'gamma', 'minLr', 'momentum', 'weightDecay', 'nesterov', 'labelSmoothing', 'augment', 'seed', 'evalBatchSize',
] as const;
type RunFlag = (typeof RUN_FLAGS)[number];

export function trainCommand(): Command {
  return new Command('train')
    .description('train a zoo model with SGD: per-epoch evaluation and checkpoints, resumable')
    .option('--arch <name>', `architecture (required unless --resume): ${MODEL_ARCHITECTURES.join(', ')}`)
    .option('--width-multiplier <alpha>', 'width multiplier (mobilenetv2)')
    .option('--data <spec>', 'training data; cifar10 means cifar10:train', 'cifar10:train')
    .option('--eval-data <spec>', 'evaluated after every epoch (default: cifar10:test for CIFAR-10, else --data)')
    .option('--data-dir <dir>', 'directory holding the CIFAR-10 .bin files')
    .option('--epochs <n>', 'epochs to train (required unless --resume)')
    .option('--batch <n>', 'batch size', '128')
    .option('--lr <rate>', 'base learning rate', '0.1')
    .option('--schedule <name>', `learning-rate schedule: ${SCHEDULE_KINDS.join(' | ')}`, 'cosine')
    .option('--warmup-epochs <n>', 'linear warm-up epochs (may be fractional)', '0')
    .option('--milestones <epochs>', 'step schedule: comma-separated epochs (default 50% and 75% of the run)')
    .option('--gamma <factor>', 'step schedule: rate multiplier at each milestone', '0.1')
    .option('--min-lr <rate>', 'cosine schedule: final rate', '0')
    .option('--momentum <m>', 'SGD momentum', '0.9')
    .option('--weight-decay <wd>', 'L2 penalty on kernels', '5e-4')
    .option('--nesterov', 'Nesterov momentum')
    .option('--label-smoothing <s>', 'label smoothing in [0, 1)', '0')
    .option('--no-augment', 'no pad-crop-flip augmentation (only images are ever augmented)')
    .option('--seed <n>', 'seed of the initial weights, shuffling and augmentation', '0')
    .option('--eval-batch-size <n>', 'evaluation batch size', '250')
    .requiredOption('--out <dir>', 'run directory: checkpoint/, train-log.jsonl, then model/ and summary.json')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .option('--stop-after-epoch <n>', 'stop once this epoch is done (resume later with --resume)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto')
    .option('--processes <n>', 'processes sharing every batch (data-parallel, gradients averaged each step); auto: 2 on wasm and tensorflow (2+ cores), else 1; on --resume, as the run had', 'auto')
    .action(async (options: TrainOptions, command: Command) => {
      const explicit = new Set(RUN_FLAGS.filter((flag) => command.getOptionValueSource(flag) === 'cli'));
      const processes = parseProcesses(options.processes);
      const run = options.resume ? await prepareResume(options, explicit) : await prepareFresh(options);
      await runTraining(run, options, resolveProcesses(processes, run.checkpoint));
    });
}

interface PreparedRun {
  out: string;
  /** The training data's spec, from which child processes reopen it. */
  trainSpec: string;
  model: LayersModel;
  modelInfo: Record<string, unknown>;
  config: TrainConfig;
  train: LabeledDataset;
  evaluation: LabeledDataset;
  checkpoint?: Checkpoint;
  stopAfterEpochs?: number;
}

function parseConfig(options: TrainOptions, epochsText: string): TrainConfig {
  const positiveInt = (flag: string, value: string) => parseNumberFlag(flag, value, isPositiveInteger, 'a positive integer');
  const fraction = (flag: string, value: string) => parseNumberFlag(flag, value, (n) => n >= 0 && n < 1, 'a number in [0, 1)');
  const kind = SCHEDULE_KINDS.find((candidate) => candidate === options.schedule) as ScheduleKind | undefined;
  if (kind === undefined) throw new UsageError(`--schedule must be one of ${SCHEDULE_KINDS.join(', ')}, got '${options.schedule}'`);
  const epochs = positiveInt('--epochs', epochsText);
  const milestones =
    options.milestones === undefined
      ? undefined
      : options.milestones.split(',').map((text) => parseNumberFlag('--milestones', text, isPositiveInteger, 'comma-separated positive integers (epochs)'));
  if (milestones !== undefined && kind !== 'step') throw new UsageError('--milestones needs --schedule step');
  const config: TrainConfig = {
    epochs,
    batchSize: positiveInt('--batch', options.batch),
    seed: parseNumberFlag('--seed', options.seed, isNonNegativeInteger, 'a non-negative integer'),
    augment: options.augment,
    sgd: {
      learningRate: parseNumberFlag('--lr', options.lr, isPositive, 'a positive number'),
      momentum: fraction('--momentum', options.momentum),
      nesterov: options.nesterov === true,
      weightDecay: parseNumberFlag('--weight-decay', options.weightDecay, (n) => n >= 0, 'a non-negative number'),
      labelSmoothing: fraction('--label-smoothing', options.labelSmoothing),
    },
    schedule: {
      kind,
      warmupEpochs: parseNumberFlag('--warmup-epochs', options.warmupEpochs, (n) => n >= 0 && n <= epochs, `a number in [0, ${epochs}] (the epochs)`),
      ...(milestones === undefined ? {} : { milestones }),
      ...(kind === 'step' ? { gamma: parseNumberFlag('--gamma', options.gamma, (n) => n > 0 && n <= 1, 'a number in (0, 1]') } : {}),
      ...(kind === 'cosine' ? { minLr: parseNumberFlag('--min-lr', options.minLr, (n) => n >= 0, 'a non-negative number') } : {}),
    },
    evalBatchSize: positiveInt('--eval-batch-size', options.evalBatchSize),
  };
  try {
    validateTrainConfig(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return config;
}

function parseStopAfter(options: TrainOptions): number | undefined {
  return options.stopAfterEpoch === undefined
    ? undefined
    : parseNumberFlag('--stop-after-epoch', options.stopAfterEpoch, isPositiveInteger, 'a positive integer');
}

async function openData(options: TrainOptions) {
  const trainSpec = defaultSplit(options.data, 'train');
  const train = await openDataset(trainSpec, '--data', options.dataDir);
  const evalSpec = options.evalData !== undefined ? defaultSplit(options.evalData, 'test') : trainSpec.startsWith('cifar10:') ? 'cifar10:test' : trainSpec;
  const evaluation = await openDataset(evalSpec, '--eval-data', options.dataDir);
  // Reading a label loads the first data file: a truncated or unreadable file is bad input too.
  await asBadInput('--data', () => train.label(0));
  await asBadInput('--eval-data', () => evaluation.label(0));
  return { train, evaluation, trainSpec };
}

function checkFits(model: LayersModel, data: LabeledDataset, flag: string, what: string): void {
  const mismatch = modelDataMismatch(model, data);
  if (mismatch !== undefined) throw new UsageError(`${what} does not fit ${flag} ${data.description}: ${mismatch}`);
}

async function prepareFresh(options: TrainOptions): Promise<PreparedRun> {
  if (options.arch === undefined) throw new UsageError('--arch is required (unless --resume)');
  if (options.epochs === undefined) throw new UsageError('--epochs is required (unless --resume)');
  const config = parseConfig(options, options.epochs);
  const stopAfterEpochs = parseStopAfter(options);
  const widthMultiplier =
    options.widthMultiplier === undefined ? undefined : parseNumberFlag('--width-multiplier', options.widthMultiplier, isPositive, 'a positive number');
  await checkOutputDir(options.out);
  await startBackend(options.backend, options.json === true);
  const { train, evaluation, trainSpec } = await openData(options);
  // Pad-crop-flip needs [height, width, channels] samples: other data trains unaugmented.
  config.augment = config.augment && train.sampleShape.length === 3;
  const arch = options.arch;
  const model = await asBadInput('--arch', () =>
    buildModel(arch, {
      numClasses: train.numClasses,
      inputShape: [...train.sampleShape],
      seed: config.seed,
      ...(widthMultiplier === undefined ? {} : { widthMultiplier }),
    }),
  );
  checkFits(model, evaluation, '--eval-data', `--arch ${arch}`);
  const modelInfo = { arch, ...(widthMultiplier === undefined ? {} : { widthMultiplier }), params: model.countParams() };
  return { out: resolve(options.out), trainSpec, model, modelInfo, config, train, evaluation, ...(stopAfterEpochs === undefined ? {} : { stopAfterEpochs }) };
}

async function prepareResume(options: TrainOptions, explicit: ReadonlySet<RunFlag>): Promise<PreparedRun> {
  const out = resolve(options.out);
  const stopAfterEpochs = parseStopAfter(options);
  if ((await findCheckpoint(checkpointDirOf(out))) === undefined) {
    throw new UsageError(`--resume: ${options.out} holds no checkpoint (${join(options.out, 'checkpoint', 'state.json')})`);
  }
  await startBackend(options.backend, options.json === true);
  const checkpoint = await asBadInput('--resume', () => readCheckpoint(checkpointDirOf(out)));
  const { state } = checkpoint;
  const recorded = recordedFlags(checkpoint);
  for (const flag of explicit) {
    const given = givenFlag(options, flag, state.config.epochs);
    if (given !== recorded[flag]) {
      throw new UsageError(`--resume: --${kebab(flag)} ${given} differs from the run in ${options.out} (${recorded[flag]}); omit it to continue that run`);
    }
  }
  const { train, evaluation, trainSpec } = await openData({
    ...options,
    data: state.data.train,
    ...(state.data.eval === undefined ? {} : { evalData: state.data.eval }),
  });
  checkFits(checkpoint.model, train, '--data', `the checkpoint's model`);
  return {
    out,
    trainSpec,
    model: checkpoint.model,
    modelInfo: state.model,
    config: state.config,
    train,
    evaluation,
    checkpoint,
    ...(stopAfterEpochs === undefined ? {} : { stopAfterEpochs }),
  };
}

function kebab(flag: string): string {
  return flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The checkpoint's settings, written as the flags that would have produced them. */
function recordedFlags(checkpoint: Checkpoint): Record<RunFlag, string> {
  const { config, model, data } = checkpoint.state;
  const { schedule, sgd } = config;
  return {
    arch: String(model['arch'] ?? ''),
    widthMultiplier: model['widthMultiplier'] === undefined ? '' : String(model['widthMultiplier']),
    data: data.train,
    evalData: data.eval ?? '',
    epochs: String(config.epochs),
    batch: String(config.batchSize),
    lr: String(sgd.learningRate),
    schedule: schedule.kind,
    warmupEpochs: String(schedule.warmupEpochs ?? 0),
    milestones: (schedule.milestones ?? []).join(','),
    gamma: String(schedule.gamma ?? 0.1),
    minLr: String(schedule.minLr ?? 0),
    momentum: String(sgd.momentum ?? 0.9),
    weightDecay: String(sgd.weightDecay ?? 0),
    nesterov: String(sgd.nesterov === true),
    labelSmoothing: String(sgd.labelSmoothing ?? 0),
    augment: String(config.augment),
    seed: String(config.seed),
    evalBatchSize: String(config.evalBatchSize),
  };
}

/** A flag given on this command line, normalised as recordedFlags writes it. */
function givenFlag(options: TrainOptions, flag: RunFlag, epochs: number): string {
  const number = (text: string | undefined) => (text === undefined || text.trim() === '' || !Number.isFinite(Number(text)) ? String(text) : String(Number(text)));
  switch (flag) {
    case 'arch':
      return options.arch ?? '';
    case 'data':
      return canonicalSpec(defaultSplit(options.data, 'train'));
    case 'evalData':
      return options.evalData === undefined ? '' : canonicalSpec(defaultSplit(options.evalData, 'test'));
    case 'schedule':
      return options.schedule;
    case 'milestones':
      return (options.milestones ?? '').split(',').map(number).join(',');
    case 'nesterov':
      return String(options.nesterov === true);
    case 'augment':
      return String(options.augment);
    case 'epochs':
      return number(options.epochs ?? String(epochs));
    default:
      return number(options[flag]);
  }
}

function canonicalSpec(text: string): string {
  try {
    return formatDatasetSpec(parseDatasetSpec(text));
  } catch {
    return text;
  }
}

async function runTraining(run: PreparedRun, options: TrainOptions, processes: number): Promise<void> {
  await mkdir(run.out, { recursive: true });
  const showing = progressDisplay();
  if (processes > 1 && options.json !== true) process.stderr.write(`training in ${processes} processes, each taking 1/${processes} of every batch\n`);
  const parallel = {
    processes,
    data: { spec: run.trainSpec, resolve: { cwd: process.cwd(), ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }) } },
  };
  const result = await trainEpochs({
    model: run.model,
    train: run.train,
    evaluation: run.evaluation,
    config: run.config,
    checkpointDir: checkpointDirOf(run.out),
    logFile: join(run.out, LOG_FILE),
    modelInfo: run.modelInfo,
    ...(run.checkpoint ? { resume: run.checkpoint } : {}),
    ...(run.stopAfterEpochs === undefined ? {} : { stopAfterEpochs: run.stopAfterEpochs }),
    onEvent: showing,
    ...(processes > 1 ? { parallel } : {}),
  }).catch(async (error: unknown) => {
    throw await withResumeHint(error, run.out, options.out);
  });
  if (!result.complete) {
    process.stderr.write(`stopped after epoch ${result.epochsDone} of ${run.config.epochs}; continue with --resume --out ${options.out}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify({ complete: false, epochsDone: result.epochsDone, history: result.history }, null, 2)}\n`);
    return;
  }
  const summary = {
    complete: true,
    model: run.modelInfo,
    data: { train: run.train.description, eval: run.evaluation.description },
    config: run.config,
    epochsDone: result.epochsDone,
    steps: result.step,
    final: result.history[result.history.length - 1],
    history: result.history,
  };
  await writeFinalModel(run.out, run.model);
  await writeFile(join(run.out, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderHistory(result.history, join(options.out, MODEL_DIR)));
}

/** --processes: a positive integer, or auto (decided once the backend is known). */
function parseProcesses(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  return parseNumberFlag('--processes', text, (n) => isPositiveInteger(n) && n <= MAX_PROCESSES, `auto or an integer in 1..${MAX_PROCESSES}`);
}

/** auto: as many as the resumed run had (so it continues alike), else the backend's default. */
function resolveProcesses(requested: number | 'auto', checkpoint: Checkpoint | undefined): number {
  if (requested !== 'auto') return requested;
  if (checkpoint !== undefined) return checkpoint.state.processes ?? 1;
  const backend = activeRuntime()?.backend;
  return backend === undefined ? 1 : defaultProcessCount(backend, availableParallelism());
}

/** A failed run keeps its last checkpoint: say so, and how to continue. */
async function withResumeHint(error: unknown, out: string, outFlag: string): Promise<Error> {
  const failure = error instanceof Error ? error : new Error(String(error));
  if (failure instanceof UsageError) return failure;
  const state = await readCheckpointState(checkpointDirOf(out)).catch(() => undefined);
  if (state === undefined) return failure;
  return new Error(`${failure.message}; the checkpoint after epoch ${state.epochsDone} is intact: continue with --resume --out ${outFlag}`, { cause: failure });
}

function progressDisplay(): (event: TrainEvent) => void {
  let bar: ProgressBar | undefined;
  return (event) => {
    if (event.kind === 'step') {
      bar ??= new ProgressBar(`epoch ${event.epoch}/${event.epochs}`);
      const detail = `loss ${event.loss.toFixed(4)} acc ${formatPercent(event.accuracy)} ${Math.round(event.imagesPerSecond)} img/s lr ${event.learningRate.toPrecision(3)}`;
      bar.update(event.batch, event.batches, detail);
    } else if (event.kind === 'evaluating') {
      bar?.update(event.done, event.total, 'evaluating');
    } else {
      bar?.done();
      bar = undefined;
      const evaluated = event.evalAccuracy === undefined ? '' : ` | eval loss ${event.evalLoss?.toFixed(4)} acc ${formatPercent(event.evalAccuracy)}`;
      process.stderr.write(
        `epoch ${event.epoch}: train loss ${event.trainLoss.toFixed(4)} acc ${formatPercent(event.trainAccuracy)}${evaluated} | ` +
          `${Math.round(event.imagesPerSecond)} img/s, ${event.seconds.toFixed(1)} s\n`,
      );
    }
  };
}

/** Written beside its destination and renamed into place: model/ is complete or absent. */
async function writeFinalModel(out: string, model: LayersModel): Promise<void> {
  const destination = join(out, MODEL_DIR);
  const staging = `${destination}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await saveLayersModelToDir(model, staging);
    await rm(destination, { recursive: true, force: true });
    await rename(staging, destination);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

function renderHistory(history: readonly EpochRecord[], modelDir: string): string {
  const rows = history.map((record) => [
    record.epoch,
    record.learningRate.toPrecision(3),
    record.trainLoss.toFixed(4),
    formatPercent(record.trainAccuracy),
    record.evalLoss === undefined ? '-' : record.evalLoss.toFixed(4),
    record.evalAccuracy === undefined ? '-' : formatPercent(record.evalAccuracy),
    Math.round(record.imagesPerSecond),
  ]);
  const table = textTable(['epoch', 'lr', 'train loss', 'train top-1', 'eval loss', 'eval top-1', 'img/s'], rows);
  return `${table}\nmodel: ${modelDir}\n`;
}
