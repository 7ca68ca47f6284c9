import { parseCriteriaList, parseFractionList } from '@ippro/compare';
import { DEFAULT_LAMBDA } from '@ippro/importance';
import { CRITERIA, parseCriterion } from '@ippro/pruning';
import { ADAMW_DEFAULTS, OPTIMIZER_KINDS } from '@ippro/models';
import { GROUP_KINDS, MODEL_LIMIT_SETTINGS } from '@ippro/graph';
import { BACKEND_SETTINGS } from '@ippro/runtime';
import {
  NON_NEGATIVE_INTEGER,
  NON_NEGATIVE_NUMBER,
  OPEN_FRACTION,
  POSITIVE_INTEGER,
  POSITIVE_NUMBER,
  TEXT,
  combineSets,
  listOf,
  numberWhere,
  oneOf,
  parser,
  setting,
  toggle,
} from '@ippro/settings';
import { FINE_TUNE_SCHEDULES, FINE_TUNE_WEIGHT_DECAY, PROSCORE_READINGS, REMOVAL_ORDERS } from '@ippro/workflow-core';
import type { FineTuneSchedule } from '@ippro/workflow-core';
import { LAYER_SETTINGS } from './cli-inputs';
import { MODEL_DATA_SETTINGS } from './model-data-settings';
import { TRAINING_DEFAULTS, byOptimizer } from './optimizer-defaults';
import type { OptimizerDefaults } from './optimizer-defaults';
import { PROGRESS_SETTINGS } from './progress-view';
import { TARGET_SETTINGS } from './run-artifacts';

const spec = (help: string) => setting({ parse: TEXT, placeholder: 'SPEC', help });
const count = (help: string, fallback: string) => setting({ parse: POSITIVE_INTEGER, help, default: fallback });

/**
 * Provisional defaults of the recovery after pruning, each decided here once (to be set from
 * measurements): fine-tuning on, for this many epochs of the fine-tuning data over the whole run,
 * with each round's rate decaying by a cosine; global ranking; distillation's temperature.
 */
export const DEFAULT_FINETUNE_EPOCHS = 3;
export const DEFAULT_FINETUNE_SCHEDULE: FineTuneSchedule = 'cosine';
export const DEFAULT_RANKING: 'global' | 'uniform' = 'global';
export const DEFAULT_DISTILLATION_TEMPERATURE = 4;
/** Batch-norm recalibration's batches: set from a measurement (docs/ippro.md section 11). */
export const DEFAULT_BN_RECALIBRATION_BATCHES = 20;

/**
 * Fine-tuning's rate and weight decay by its optimizer. SGD's are the ones fine-tuning has always
 * had. AdamW's are for a model trained with AdamW (the ViT): its training weight decay, at a tenth
 * of its training peak rate, since fine-tuning only repairs trained weights that pruning disturbed.
 */
export const FINETUNE_DEFAULTS: OptimizerDefaults = {
  sgd: { lr: 0.01, weightDecay: FINE_TUNE_WEIGHT_DECAY },
  adamw: { lr: TRAINING_DEFAULTS.adamw.lr / 10, weightDecay: TRAINING_DEFAULTS.adamw.weightDecay },
};

/** How PROscore is read (docs/ippro.md section 3): `score`, `prune` and `compare` take them. */
export const PROSCORE_SETTINGS = {
  proscoreReading: setting({
    parse: oneOf(PROSCORE_READINGS, 'READING'),
    help: 'pooled (the mean gradient of the scoring data) | per-batch (each batch scored, averaged by size) | trajectory (T real SGD steps over the scoring data in order; one call, so not with --score-shards or --layer-shards above 1)',
    default: 'pooled',
  }),
  proscoreOrder: setting({ parse: oneOf(REMOVAL_ORDERS, 'ORDER'), help: 'ascending (lowest PROscore removed first) | descending (highest first)', default: 'ascending' }),
  proscoreWeightDecay: setting({
    parse: NON_NEGATIVE_NUMBER,
    placeholder: 'WD',
    help: "the training objective's L2 penalty on kernels (wd/2 sum of squares) in PROscore's loss and the trajectory's; not with --include-bias",
    default: '0',
  }),
  trajectorySteps: setting({ parse: POSITIVE_INTEGER, help: 'the trajectory reading: T SGD steps, one scoring batch each, in order', defaultHelp: 'every batch of the scoring data' }),
  trajectoryLr: setting({ parse: POSITIVE_NUMBER, placeholder: 'RATE', help: "the trajectory reading's learning rate", defaultHelp: 'the --lambda value' }),
  trajectoryMomentum: setting({ parse: numberWhere('in [0, 1)', (n) => n >= 0 && n < 1, 'MOMENTUM'), help: "the trajectory reading's SGD momentum", defaultHelp: '0.9' }),
};

/** What a pruning run computes from, shared by `prune` and `compare` (and `schedule create`, through prune). */
export const RUN_INPUT_SETTINGS = {
  model: setting({ parse: TEXT, placeholder: 'DIR', help: 'model directory (model.json + weights); required' }),
  data: spec('scoring and fine-tuning data, e.g. cifar10:train[0:5000]; required'),
  scoringSamples: setting({
    parse: POSITIVE_INTEGER,
    help: 'score on N samples of --data drawn without replacement by the seed (compare: by each run\'s seed)',
    defaultHelp: 'every sample of --data',
  }),
  evalData: { ...spec('evaluation data'), defaultHelp: 'the --data spec' },
  finetuneData: { ...spec('fine-tuning data'), defaultHelp: 'the --data spec' },
  dataDir: setting({ parse: TEXT, placeholder: 'DIR', help: 'directory holding the CIFAR-10 .bin files' }),
  ...MODEL_DATA_SETTINGS,
  lambda: setting({ parse: POSITIVE_NUMBER, placeholder: 'VALUE', help: 'PROscore step size', defaultHelp: String(DEFAULT_LAMBDA) }),
  ...PROSCORE_SETTINGS,
  ranking: setting({ parse: oneOf(['global', 'uniform'] as const), help: 'global | uniform (per layer)', default: DEFAULT_RANKING }),
  maxLayerRatio: setting({ parse: numberWhere('a fraction in (0, 1]', (n) => n > 0 && n <= 1, 'FRACTION'), help: "most of a layer's channels that may go", default: '0.9' }),
  minChannels: count('fewest channels a layer keeps', '1'),
  roundTo: setting({ parse: POSITIVE_INTEGER, help: 'keep layer widths a multiple of N' }),
  ignoreLayers: setting({ parse: listOf(TEXT), placeholder: 'NAMES', help: 'comma-separated layers never pruned (the output layer never is)' }),
  groupKinds: setting({
    parse: listOf(oneOf(GROUP_KINDS, 'KIND'), 'KINDS'),
    help: `comma-separated kinds of group the run may remove: ${GROUP_KINDS.join(', ')} (attention heads, transformer MLP neurons, the residual stream's width)`,
    defaultHelp: 'all',
  }),
  ...LAYER_SETTINGS,
  batchNormMode: setting({ parse: oneOf(['inference', 'batch'] as const, 'MODE'), help: 'batch normalization during scoring: inference | batch', default: 'inference' }),
  includeBias: toggle({ help: "include each unit's bias in F (PROscore, magnitudes, Taylor)" }),
  batchSize: count('scoring and fine-tuning batch size', '64'),
  evalBatchSize: count('evaluation batch size', '250'),
  scoreShards: count('batch shards of each scoring pass and of evaluation (merged exactly)', '1'),
  layerShards: count('group shards of each scoring pass (merged exactly)', '1'),
  maxParallel: count('activities of one fan-out in flight at once (compare: pruned models worked on at once)', '4'),
  finetuneEpochs: setting({
    parse: NON_NEGATIVE_NUMBER,
    placeholder: 'E',
    help: 'fine-tuning budget in epochs of the fine-tuning data over the whole run: E x (its batches) steps, shared by rounds x repetitions x replicas, rounded up (compare: per pruned model); 0: none; not with --finetune-steps',
    defaultHelp: `${DEFAULT_FINETUNE_EPOCHS} unless --finetune-steps is given`,
  }),
  finetuneSteps: setting({
    parse: NON_NEGATIVE_INTEGER,
    help: 'optimizer steps per replica per repetition after each round (compare: after pruning, per pruned model), instead of --finetune-epochs; 0: none',
  }),
  finetuneOptimizer: setting({
    parse: oneOf(OPTIMIZER_KINDS),
    help:
      'sgd: SGD with momentum 0.9, weight decay as an L2 penalty | adamw: AdamW (torch.optim.AdamW, betas ' +
      `${ADAMW_DEFAULTS.beta1} and ${ADAMW_DEFAULTS.beta2}, epsilon ${ADAMW_DEFAULTS.epsilon}), weight decay decoupled: for a model trained with AdamW, such as the ViT. ` +
      "Each replica's fine-tuning starts the optimizer afresh: no momentum or moments carry over between repetitions or rounds",
    default: 'sgd',
  }),
  finetuneLr: setting({
    parse: POSITIVE_NUMBER,
    placeholder: 'RATE',
    help: "fine-tuning learning rate; adamw's default is a tenth of ippro train's with --optimizer adamw (the ViT's peak rate), as fine-tuning repairs trained weights rather than training anew",
    defaultHelp: byOptimizer(FINETUNE_DEFAULTS, 'lr'),
  }),
  finetuneWeightDecay: setting({
    parse: NON_NEGATIVE_NUMBER,
    placeholder: 'WD',
    help: "fine-tuning's weight decay of the kernels (not biases, normalisation parameters, position embeddings or class tokens); sgd: an L2 penalty WD/2 ||w||^2 in the loss; adamw: decoupled, w <- w - lr WD w every step",
    defaultHelp: byOptimizer(FINETUNE_DEFAULTS, 'weightDecay'),
  }),
  finetuneSchedule: setting({
    parse: oneOf(FINE_TUNE_SCHEDULES),
    help: "constant | cosine: each round's rate (compare: each pruned model's) decays to 0 over its steps",
    default: DEFAULT_FINETUNE_SCHEDULE,
  }),
  distillWeight: setting({
    parse: numberWhere('a weight in [0, 1]', (n) => n >= 0 && n <= 1, 'W'),
    help: 'knowledge distillation from the input model while fine-tuning: loss = (1 - W) loss of the output kind + W T^2 KL(teacher || student) of the logits at temperature T (probabilities: their log; a sigmoid output is refused); 0: none',
    default: '0',
  }),
  temperature: setting({ parse: POSITIVE_NUMBER, placeholder: 'T', help: "distillation's softmax temperature", defaultHelp: String(DEFAULT_DISTILLATION_TEMPERATURE) }),
  bnRecalibrationBatches: setting({
    parse: NON_NEGATIVE_INTEGER,
    help:
      "after every surgery, re-estimate each batch norm's moving mean and variance on N batches in training mode (no weight update, no augmentation), before fine-tuning; " +
      'on by default: it costs N forward passes and raised one-shot top-1 in the measurements of docs/results; a model without batch norm skips it; 0: none',
    default: String(DEFAULT_BN_RECALIBRATION_BATCHES),
  }),
  bnRecalibrationData: { ...spec('batch-norm recalibration data'), defaultHelp: 'the --finetune-data spec' },
  bnRecalibrationBatchSize: setting({ parse: POSITIVE_INTEGER, help: 'batch-norm recalibration batch size', defaultHelp: 'the --batch-size value' }),
  seed: setting({ parse: NON_NEGATIVE_INTEGER, help: 'seed of shuffling, augmentation, draws, recalibration batches, fine-tuning and the random criterion', default: '0' }),
  ...BACKEND_SETTINGS,
  ...MODEL_LIMIT_SETTINGS,
};

/** Where a run's results go and how it is shown, shared by `prune` and `compare`. */
export const RUN_OUTPUT_SETTINGS = {
  local: toggle({ help: 'run everything in this process (no Temporal, no workers): the same activities, the same bytes' }),
  out: setting({ parse: TEXT, placeholder: 'DIR', help: 'new directory for the results (prune: the pruned model, summary.json; compare: the tables) and report.html' }),
  json: toggle({ help: 'print the result as JSON on stdout' }),
  runId: setting({ parse: TEXT, placeholder: 'ID', help: 'workflow id of the run', defaultHelp: '<command>-<time>-<random>' }),
  ...PROGRESS_SETTINGS,
};

/** Accuracy drops are percentage points everywhere; a fraction is the workflow's own unit, converted at the edge. */
export const ACCURACY_BUDGET_SETTINGS = {
  accuracyBudget: setting({
    parse: numberWhere('percentage points in [0, 100)', (n) => n >= 0 && n < 100, 'POINTS'),
    help: 'top-1 may fall at most this many percentage points below the input model (1.0 = one point)',
  }),
  maxAccuracyDrop: setting({
    parse: numberWhere('a fraction in [0, 1)', (n) => n >= 0 && n < 1, 'FRACTION'),
    help: 'the accuracy budget as a fraction (0.01 = one point)',
    replacedBy: 'accuracy-budget',
  }),
};

/** What only `prune` (and `schedule create`) takes: one criterion, one target, rounds, local SGD. */
export const PRUNE_INPUT_SETTINGS = {
  criterion: setting({ parse: parser('text', 'NAME', parseCriterion), help: CRITERIA.join(' | '), default: 'proscore' }),
  targetFlops: setting({ parse: OPEN_FRACTION, placeholder: 'FRACTION', help: 'remove this fraction of FLOPs, in (0, 1)' }),
  targetParams: setting({ parse: OPEN_FRACTION, placeholder: 'FRACTION', help: 'remove this fraction of parameters, in (0, 1)' }),
  targetChannels: setting({ parse: OPEN_FRACTION, placeholder: 'FRACTION', help: 'remove this fraction of channels, in (0, 1)' }),
  rounds: count('pruning rounds', '1'),
  schedule: setting({ parse: oneOf(['linear', 'geometric'] as const), help: 'linear | geometric share of the target per round', default: 'linear' }),
  replicas: count('local-SGD replicas per repetition (each trains on its share of the data; weights averaged)', '1'),
  repetitions: count('local-SGD repetitions per round', '1'),
  ...ACCURACY_BUDGET_SETTINGS,
};

/** Whether a command that starts a run on a stack follows it to its end (prune and compare alike). */
export const WAIT_SETTINGS = {
  wait: toggle({ help: "wait for the run (--no-wait: submit it, print its id and return, 'ippro watch ID --out DIR' collects it; distributed only)", default: true }),
};

export const PRUNE_SETTINGS = combineSets(combineSets(RUN_INPUT_SETTINGS, PRUNE_INPUT_SETTINGS), RUN_OUTPUT_SETTINGS, WAIT_SETTINGS, TARGET_SETTINGS);
export type PruneSettingsSet = typeof PRUNE_SETTINGS;

/** A @ippro/compare list parser, its messages without the name it puts first (the setting's own name comes first). */
function listParser<T>(parse: (text: string, label: string) => T[]) {
  return parser('list', 'LIST', (text) => {
    try {
      return parse(text, 'list');
    } catch (error) {
      throw new Error((error as Error).message.replace(/^[\w-]+: /, ''));
    }
  });
}

const fractions = (what: string) => setting({ parse: listParser(parseFractionList), help: `fractions of ${what} to remove, e.g. 0.3,0.5,0.7` });

/** What only `compare` takes: several criteria at several targets, runs over seeds, and the report-only test set. */
export const COMPARE_INPUT_SETTINGS = {
  criteria: setting({
    parse: listParser(parseCriteriaList),
    help: `comma-separated, of ${CRITERIA.join(', ')}; PROscore's readings as variants: proscore:MODIFIER[+MODIFIER], modifiers pooled, per-batch, trajectory, ascending, descending, wd (SGD fine-tuning's default weight decay, ${FINE_TUNE_WEIGHT_DECAY}), wd=NUMBER`,
    default: 'proscore,l2,l1,taylor,bn,random',
  }),
  targetFlops: { ...fractions('FLOPs'), defaultHelp: '0.3,0.5,0.7 unless another target is given' },
  targetParams: fractions('parameters'),
  targetChannels: fractions('channels'),
  seeds: count('runs of every criterion: run k draws its scoring samples and orders fine-tuning with seed + k (mean and standard deviation over the runs)', '1'),
  testData: spec('test data, reported in columns of its own and never chosen on (--eval-data is where choices are made)'),
};

export const COMPARE_SETTINGS = combineSets(combineSets(RUN_INPUT_SETTINGS, COMPARE_INPUT_SETTINGS), RUN_OUTPUT_SETTINGS, WAIT_SETTINGS, TARGET_SETTINGS);
export type CompareSettingsSet = typeof COMPARE_SETTINGS;
