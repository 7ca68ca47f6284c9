import { Command } from 'commander';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { formatDatasetSpec, formatNormalization, parseDatasetSpec, parseNormalization } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { saveLayersModelToDir } from '@ippro/graph';
import { ADAMW_DEFAULTS, buildModel, MODEL_ARCHITECTURES, OPTIMIZER_KINDS, SCHEDULE_KINDS } from '@ippro/models';
import type { ClassifierOutput, OptimizerKind } from '@ippro/models';
import { BACKEND_SETTINGS, activeRuntime } from '@ippro/runtime';
import {
  checkpointDirOf,
  defaultProcessCount,
  findCheckpoint,
  optimizerKindOf,
  optimizerOf,
  readCheckpoint,
  readCheckpointState,
  trainEpochs,
  validateTrainConfig,
} from '@ippro/training';
import type { Checkpoint, EpochRecord, TrainConfig, TrainEvent } from '@ippro/training';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  NON_NEGATIVE_INTEGER,
  NON_NEGATIVE_NUMBER,
  POSITIVE_INTEGER,
  POSITIVE_NUMBER,
  TEXT,
  effectiveConfig,
  listOf,
  numberWhere,
  oneOf,
  parser,
  required,
  setting,
  toggle,
} from '@ippro/settings';
import type { EffectiveConfig, ValuesOf } from '@ippro/settings';
import { asBadInput, checkModelFits, checkOutputDir, openDataset, resolveOutput, specWithNormalize, startBackend } from '../cli-inputs';
import { addSettings, asUsage, commandSettings } from '../command-settings';
import { UsageError } from '../exit-codes';
import { ProgressBar } from '../progress-bar';
import { formatPercent, textTable } from '../text-table';
import { MODEL_DATA_SETTINGS } from '../model-data-settings';
import { TRAINING_DEFAULTS, byOptimizer } from '../optimizer-defaults';
import { defaultSplit } from './dataset-flags';
import { accuracyName } from '@ippro/workflow-core';

export const LOG_FILE = 'train-log.jsonl';
export const SUMMARY_FILE = 'summary.json';
export const MODEL_DIR = 'model';
/** More processes than this would only share the cores of one machine more thinly. */
const MAX_PROCESSES = 16;
const PROCESS_COUNT = numberWhere(`auto or an integer in 1..${MAX_PROCESSES}`, (n) => Number.isInteger(n) && n > 0 && n <= MAX_PROCESSES);

/**
 * Flags that define the run: on --resume, any of them given must agree with the checkpoint. The
 * optimizer comes first: the flags of one optimizer are checked against it.
 */
const RUN_FLAGS = [
  'optimizer', 'arch', 'widthMultiplier', 'data', 'evalData', 'normalize', 'epochs', 'batch', 'lr', 'schedule', 'warmupEpochs', 'milestones',
  'gamma', 'minLr', 'momentum', 'weightDecay', 'nesterov', 'beta1', 'beta2', 'epsilon', 'labelSmoothing', 'augment', 'seed', 'evalBatchSize',
] as const;
type RunFlag = (typeof RUN_FLAGS)[number];

/** The flags of one optimizer: given with the other, they would do nothing, so they are refused. */
const OPTIMIZER_FLAGS: Readonly<Record<OptimizerKind, readonly RunFlag[]>> = { sgd: ['momentum', 'nesterov'], adamw: ['beta1', 'beta2', 'epsilon'] };

const positive = (help: string, fallback: string, placeholder = 'N') => setting({ parse: POSITIVE_INTEGER, placeholder, help, default: fallback });
const below1 = numberWhere('a number in [0, 1)', (n) => n >= 0 && n < 1);

/** The settings of `ippro train`. */
export const TRAIN_SETTINGS = {
  arch: setting({ parse: TEXT, placeholder: 'NAME', help: `architecture (required unless --resume): ${MODEL_ARCHITECTURES.join(', ')}` }),
  widthMultiplier: setting({ parse: POSITIVE_NUMBER, placeholder: 'ALPHA', help: 'width multiplier (mobilenetv2)' }),
  data: setting({ parse: TEXT, placeholder: 'SPEC', help: 'training data; cifar10 means cifar10:train', default: 'cifar10:train' }),
  evalData: setting({ parse: TEXT, placeholder: 'SPEC', help: 'evaluated after every epoch', defaultHelp: 'cifar10:test for CIFAR-10, else --data' }),
  dataDir: setting({ parse: TEXT, placeholder: 'DIR', help: 'directory holding the CIFAR-10 .bin files' }),
  ...MODEL_DATA_SETTINGS,
  epochs: setting({ parse: POSITIVE_INTEGER, help: 'epochs to train (required unless --resume)' }),
  batch: positive('batch size', '128'),
  optimizer: setting({
    parse: oneOf(OPTIMIZER_KINDS),
    help: 'sgd: SGD with momentum, weight decay as an L2 penalty; adamw: AdamW (torch.optim.AdamW), weight decay decoupled (for the ViT)',
    default: 'sgd',
  }),
  lr: setting({ parse: POSITIVE_NUMBER, placeholder: 'RATE', help: 'base learning rate (the schedule scales it)', defaultHelp: byOptimizer(TRAINING_DEFAULTS, 'lr') }),
  schedule: setting({ parse: oneOf(SCHEDULE_KINDS), help: `learning-rate schedule: ${SCHEDULE_KINDS.join(' | ')}`, default: 'cosine' }),
  warmupEpochs: setting({ parse: NON_NEGATIVE_NUMBER, help: 'linear warm-up epochs (may be fractional), at most --epochs', default: '0' }),
  milestones: setting({
    parse: listOf(numberWhere('comma-separated positive integers (epochs)', (n) => Number.isInteger(n) && n > 0)),
    placeholder: 'EPOCHS',
    help: 'step schedule: comma-separated epochs',
    defaultHelp: '50% and 75% of the run',
  }),
  gamma: setting({ parse: numberWhere('a number in (0, 1]', (n) => n > 0 && n <= 1), placeholder: 'FACTOR', help: 'step schedule: rate multiplier at each milestone', default: '0.1' }),
  minLr: setting({ parse: NON_NEGATIVE_NUMBER, placeholder: 'RATE', help: 'cosine schedule: final rate', default: '0' }),
  momentum: setting({ parse: below1, placeholder: 'M', help: 'sgd: momentum', default: '0.9' }),
  weightDecay: setting({
    parse: NON_NEGATIVE_NUMBER,
    placeholder: 'WD',
    help:
      'weight decay of the kernels of Dense, convolution and attention projection layers (not biases, batch/layer-norm gamma and beta, ' +
      'position embeddings or class tokens); sgd: an L2 penalty WD/2 ||w||^2 in the loss; adamw: decoupled, w <- w - lr WD w every step, lr as scheduled',
    defaultHelp: byOptimizer(TRAINING_DEFAULTS, 'weightDecay'),
  }),
  nesterov: toggle({ help: 'sgd: Nesterov momentum' }),
  beta1: setting({ parse: below1, placeholder: 'B1', help: "adamw: the first moment's decay", default: String(ADAMW_DEFAULTS.beta1) }),
  beta2: setting({ parse: below1, placeholder: 'B2', help: "adamw: the second moment's decay", default: String(ADAMW_DEFAULTS.beta2) }),
  epsilon: setting({ parse: POSITIVE_NUMBER, placeholder: 'EPS', help: 'adamw: added to sqrt(v_hat) in the denominator', default: String(ADAMW_DEFAULTS.epsilon) }),
  labelSmoothing: setting({ parse: below1, placeholder: 'S', help: 'label smoothing in [0, 1)', default: '0' }),
  augment: toggle({ help: 'pad-crop-flip augmentation (--no-augment: none; only images are ever augmented)', default: true }),
  seed: setting({ parse: NON_NEGATIVE_INTEGER, help: 'seed of the initial weights, shuffling and augmentation', default: '0' }),
  evalBatchSize: positive('evaluation batch size', '250'),
  out: setting({ parse: TEXT, placeholder: 'DIR', help: 'run directory: checkpoint/, train-log.jsonl, then model/ and summary.json; required' }),
  resume: toggle({ help: 'continue the run in --out from its checkpoint' }),
  stopAfterEpoch: setting({ parse: POSITIVE_INTEGER, help: 'stop once this epoch is done (resume later with --resume)' }),
  json: toggle({ help: 'print the summary as JSON on stdout' }),
  ...BACKEND_SETTINGS,
  processes: setting({
    parse: parser('text', 'N', (text): number | 'auto' => (text === 'auto' ? 'auto' : PROCESS_COUNT.parse(text))),
    help: 'processes sharing every batch (data-parallel, gradients averaged each step); auto: 2 on wasm and tensorflow (2+ cores), else 1; on --resume, as the run had',
    default: 'auto',
  }),
};

type TrainOptions = ValuesOf<typeof TRAIN_SETTINGS> & { out: string };

export function trainCommand(): Command {
  return addSettings(new Command('train').description('train a zoo model with SGD or AdamW: per-epoch evaluation and checkpoints, resumable'), TRAIN_SETTINGS).action(
    async (_options: unknown, command: Command) => {
      const settings = commandSettings(command, TRAIN_SETTINGS);
      const options = { ...settings.values, out: asUsage(() => required(settings, 'out')) };
      const explicit = new Set(RUN_FLAGS.filter((flag) => ['flag', 'file'].includes(settings.origin(flag).kind)));
      const run = options.resume ? await prepareResume(options, explicit) : await prepareFresh(options, explicit);
      await runTraining(run, options, resolveProcesses(options.processes, run.checkpoint), effectiveConfig(settings));
    },
  );
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
  /** The model's output kind: its loss and what its accuracy counts. */
  output: ClassifierOutput;
  checkpoint?: Checkpoint;
  stopAfterEpochs?: number;
}

/** The message refusing a flag of the other optimizer, or undefined when `flag` may be given with `kind`. */
function foreignOptimizerFlag(kind: OptimizerKind, flag: RunFlag): string | undefined {
  const owner = OPTIMIZER_KINDS.find((other) => OPTIMIZER_FLAGS[other].includes(flag));
  return owner === undefined || owner === kind ? undefined : `--${kebab(flag)} is a setting of --optimizer ${owner}, not ${kind}`;
}

function parseConfig(options: TrainOptions, epochs: number, explicit: ReadonlySet<RunFlag>): TrainConfig {
  const kind = options.schedule;
  if (options.milestones !== undefined && kind !== 'step') throw new UsageError('--milestones needs --schedule step');
  if (options.warmupEpochs > epochs) throw new UsageError(`--warmup-epochs must be a number in [0, ${epochs}] (the epochs), got '${options.warmupEpochs}'`);
  const optimizer = options.optimizer;
  for (const flag of explicit) {
    const refusal = foreignOptimizerFlag(optimizer, flag);
    if (refusal !== undefined) throw new UsageError(refusal);
  }
  const learningRate = options.lr ?? TRAINING_DEFAULTS[optimizer].lr;
  const weightDecay = options.weightDecay ?? TRAINING_DEFAULTS[optimizer].weightDecay;
  const labelSmoothing = options.labelSmoothing;
  const config: TrainConfig = {
    epochs,
    batchSize: options.batch,
    seed: options.seed,
    augment: options.augment,
    sgd:
      optimizer === 'sgd'
        ? { learningRate, momentum: options.momentum, nesterov: options.nesterov, weightDecay, labelSmoothing }
        : { learningRate, weightDecay, labelSmoothing },
    ...(optimizer === 'adamw' ? { optimizer: { kind: 'adamw', beta1: options.beta1, beta2: options.beta2, epsilon: options.epsilon } } : {}),
    schedule: {
      kind,
      warmupEpochs: options.warmupEpochs,
      ...(options.milestones === undefined ? {} : { milestones: options.milestones }),
      ...(kind === 'step' ? { gamma: options.gamma } : {}),
      ...(kind === 'cosine' ? { minLr: options.minLr } : {}),
    },
    evalBatchSize: options.evalBatchSize,
  };
  try {
    validateTrainConfig(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return config;
}

/** The run's data; a fresh run writes --normalize into its specs (a resumed run's specs already carry it). */
async function openData(options: TrainOptions, normalize: string | undefined) {
  const trainSpec = await asBadInput('--data', () => specWithNormalize(defaultSplit(options.data, 'train'), normalize));
  const dataOptions = { ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }), quiet: options.json === true };
  const train = await openDataset(trainSpec, '--data', dataOptions);
  const evalGiven = options.evalData !== undefined ? defaultSplit(options.evalData, 'test') : trainSpec.startsWith('cifar10:') ? 'cifar10:test' : trainSpec;
  const evalSpec = await asBadInput('--eval-data', () => specWithNormalize(evalGiven, normalize));
  const evaluation = await openDataset(evalSpec, '--eval-data', dataOptions);
  // Reading a label loads the first data file: a truncated or unreadable file is bad input too.
  await asBadInput('--data', () => firstLabel(train));
  await asBadInput('--eval-data', () => firstLabel(evaluation));
  return { train, evaluation, trainSpec };
}

function firstLabel(data: LabeledDataset): unknown {
  return data.multiHotLabel === undefined ? data.label(0) : data.multiHotLabel(0);
}

/**
 * The kind of classifier a fresh run builds: the stated one, or for 'auto' a softmax (probabilities),
 * or a sigmoid for multi-hot labels; and its units (a sigmoid for two classes is one unit, labels 0/1).
 */
function classifierFor(options: TrainOptions, train: LabeledDataset): { output: ClassifierOutput; numClasses: number } {
  const multiHot = train.multiHotLabel !== undefined;
  const output: ClassifierOutput = options.output === 'auto' ? (multiHot ? 'sigmoid' : 'probabilities') : options.output;
  const binary = output === 'sigmoid' && !multiHot && train.numClasses <= 2;
  return { output, numClasses: binary ? 1 : train.numClasses };
}

async function prepareFresh(options: TrainOptions, explicit: ReadonlySet<RunFlag>): Promise<PreparedRun> {
  if (options.arch === undefined) throw new UsageError('--arch is required (unless --resume)');
  if (options.epochs === undefined) throw new UsageError('--epochs is required (unless --resume)');
  const config = parseConfig(options, options.epochs, explicit);
  const stopAfterEpochs = options.stopAfterEpoch;
  const widthMultiplier = options.widthMultiplier;
  await checkOutputDir(options.out);
  await startBackend(options.backend, options.json === true);
  const { train, evaluation, trainSpec } = await openData(options, options.normalize);
  // Pad-crop-flip needs [height, width, channels] samples: other data trains unaugmented.
  config.augment = config.augment && train.sampleShape.length === 3;
  const arch = options.arch;
  const { output, numClasses } = classifierFor(options, train);
  config.sgd.output = output;
  const model = await asBadInput('--arch', () =>
    buildModel(arch, {
      numClasses,
      output,
      inputShape: [...train.sampleShape],
      seed: config.seed,
      ...(widthMultiplier === undefined ? {} : { widthMultiplier }),
    }),
  );
  checkModelFits(model, train, output, '--data', `--arch ${arch}`);
  checkModelFits(model, evaluation, output, '--eval-data', `--arch ${arch}`);
  const modelInfo = { arch, ...(widthMultiplier === undefined ? {} : { widthMultiplier }), output, params: model.countParams() };
  return { out: resolve(options.out), trainSpec, model, modelInfo, config, train, evaluation, output, ...(stopAfterEpochs === undefined ? {} : { stopAfterEpochs }) };
}

async function prepareResume(options: TrainOptions, explicit: ReadonlySet<RunFlag>): Promise<PreparedRun> {
  const out = resolve(options.out);
  const stopAfterEpochs = options.stopAfterEpoch;
  if ((await findCheckpoint(checkpointDirOf(out))) === undefined) {
    throw new UsageError(`--resume: ${options.out} holds no checkpoint (${join(options.out, 'checkpoint', 'state.json')})`);
  }
  await startBackend(options.backend, options.json === true);
  const checkpoint = await asBadInput('--resume', () => readCheckpoint(checkpointDirOf(out)));
  const { state } = checkpoint;
  const recorded = recordedFlags(checkpoint);
  for (const flag of explicit) {
    const refusal = foreignOptimizerFlag(optimizerKindOf(state.config), flag);
    if (refusal !== undefined) throw new UsageError(`--resume: ${refusal} (the optimizer of the run in ${options.out})`);
    const given = givenFlag(options, flag, state.config.epochs);
    if (given !== recorded[flag]) {
      throw new UsageError(`--resume: --${kebab(flag)} ${given} differs from the run in ${options.out} (${recorded[flag]}); omit it to continue that run`);
    }
  }
  const { train, evaluation, trainSpec } = await openData(
    {
      ...options,
      data: state.data.train,
      ...(state.data.eval === undefined ? {} : { evalData: state.data.eval }),
    },
    undefined,
  );
  const output = await resolveOutput(checkpoint.model, options.output, `${options.out}'s checkpoint`);
  checkModelFits(checkpoint.model, train, output, '--data', `the checkpoint's model`);
  return {
    out,
    trainSpec,
    model: checkpoint.model,
    modelInfo: state.model,
    config: state.config,
    train,
    evaluation,
    output,
    checkpoint,
    ...(stopAfterEpochs === undefined ? {} : { stopAfterEpochs }),
  };
}

function kebab(flag: string): string {
  return flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The checkpoint's settings, written as the flags that would have produced them ('' for the other optimizer's). */
function recordedFlags(checkpoint: Checkpoint): Record<RunFlag, string> {
  const { config, model, data } = checkpoint.state;
  const { schedule, sgd } = config;
  const adamw = config.optimizer;
  return {
    optimizer: optimizerKindOf(config),
    arch: String(model['arch'] ?? ''),
    widthMultiplier: model['widthMultiplier'] === undefined ? '' : String(model['widthMultiplier']),
    data: data.train,
    evalData: data.eval ?? '',
    normalize: normalizeOf(data.train),
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
    beta1: adamw === undefined ? '' : String(adamw.beta1),
    beta2: adamw === undefined ? '' : String(adamw.beta2),
    epsilon: adamw === undefined ? '' : String(adamw.epsilon),
    labelSmoothing: String(sgd.labelSmoothing ?? 0),
    augment: String(config.augment),
    seed: String(config.seed),
    evalBatchSize: String(config.evalBatchSize),
  };
}

/** A setting given by a flag or the configuration file, normalised as recordedFlags writes it. */
function givenFlag(options: TrainOptions, flag: RunFlag, epochs: number): string {
  switch (flag) {
    case 'arch':
      return options.arch ?? '';
    case 'data':
      return canonicalSpec(defaultSplit(options.data, 'train'));
    case 'evalData':
      return options.evalData === undefined ? '' : canonicalSpec(defaultSplit(options.evalData, 'test'));
    case 'milestones':
      return (options.milestones ?? []).join(',');
    case 'normalize':
      return options.normalize === undefined ? '' : formatNormalization(parseNormalization(options.normalize));
    case 'epochs':
      return String(options.epochs ?? epochs);
    default:
      return String(options[flag]);
  }
}

/** The normalize= parameter of a recorded spec, as formatNormalization writes it ('' when it has none). */
function normalizeOf(spec: string): string {
  const setting = parseDatasetSpec(spec).normalize;
  return setting === undefined ? '' : formatNormalization(setting);
}

function canonicalSpec(text: string): string {
  try {
    return formatDatasetSpec(parseDatasetSpec(text));
  } catch {
    return text;
  }
}

async function runTraining(run: PreparedRun, options: TrainOptions, processes: number, config: EffectiveConfig): Promise<void> {
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
    output: run.output,
    optimizer: optimizerOf(run.config),
    config: run.config,
    epochsDone: result.epochsDone,
    steps: result.step,
    final: result.history[result.history.length - 1],
    history: result.history,
    // `config` is the run's (a resumed run's comes from its checkpoint); `settings`, this invocation's effective settings.
    settings: config,
  };
  await writeFinalModel(run.out, run.model);
  await writeFile(join(run.out, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderHistory(result.history, join(options.out, MODEL_DIR), run.output));
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

function renderHistory(history: readonly EpochRecord[], modelDir: string, output: ClassifierOutput): string {
  const rows = history.map((record) => [
    record.epoch,
    record.learningRate.toPrecision(3),
    record.trainLoss.toFixed(4),
    formatPercent(record.trainAccuracy),
    record.evalLoss === undefined ? '-' : record.evalLoss.toFixed(4),
    record.evalAccuracy === undefined ? '-' : formatPercent(record.evalAccuracy),
    Math.round(record.imagesPerSecond),
  ]);
  const accuracy = accuracyName(output);
  const table = textTable(['epoch', 'lr', 'train loss', `train ${accuracy}`, 'eval loss', `eval ${accuracy}`, 'img/s'], rows);
  return `${table}\nmodel: ${modelDir}\n`;
}
