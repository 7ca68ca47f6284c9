import type { ActivityConfig, DatasetRef, FineTuneConfig, ModelOutputKind, ProscoreConfig, PruneWorkflowInput, RecalibrationConfig, ShardConfig } from './prune-types';
import { CRITERION_NAMES, FINE_TUNE_SCHEDULES, GRADIENT_CRITERION_NAMES, MODEL_OUTPUT_KINDS, PROSCORE_READINGS, REMOVAL_ORDERS } from './prune-types';
import { adamwFault } from './optimizer-settings';

/** A workflow input field that cannot be used; the message names the field and the value. */
export class PruneInputError extends Error {
  override readonly name = 'PruneInputError';
}

const SHA256 = /^[0-9a-f]{64}$/;
const TARGET_METRICS = ['params', 'flops', 'channels'];

function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fail(field: string, expected: string, value: unknown): never {
  throw new PruneInputError(`${field} must be ${expected}, got ${show(value)}`);
}

/**
 * Upper bounds of a run's counts, checked inside the workflows (a client may send any input): a
 * run within them can still be large, but not unbounded. Generous for real runs; a deployment
 * that needs more raises them here, in one place, for every client and workflow.
 */
export const WORKFLOW_INPUT_LIMITS = {
  /** Samples per batch: scoring, fine-tuning, evaluation. */
  batchSize: 65_536,
  /** Batch, layer and evaluation shards of one pass. */
  shards: 4096,
  /** Activities of one fan-out in flight at once. */
  maxParallel: 1024,
  /** Fine-tuning replicas. */
  replicas: 1024,
  /** Local-SGD repetitions per round. */
  repetitions: 1000,
  /** Pruning rounds. */
  rounds: 100,
  /** SGD steps per replica per repetition, and a PROscore trajectory's steps. */
  steps: 10_000_000,
  /** Batches of one statistics pass (batch-norm recalibration). */
  batches: 1_000_000,
  /** Samples drawn from a dataset. */
  samples: 100_000_000,
  /** Attempts of one activity. */
  attempts: 100,
  /** Activity timeouts, seconds (7 days). */
  seconds: 604_800,
  /** Seeds of a comparison (runs of every criterion, or of the random criterion). */
  seeds: 100,
  /** Targets of a comparison. */
  targets: 100,
} as const;

export type WorkflowInputLimit = keyof typeof WORKFLOW_INPUT_LIMITS;

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isPositiveInteger = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * A count in [min, WORKFLOW_INPUT_LIMITS[limit]] (min 1 unless given); above the limit the message
 * names it and where it is raised. Throws PruneInputError.
 */
export function checkCount(field: string, value: unknown, limit: WorkflowInputLimit, min: 0 | 1 = 1): void {
  if (!Number.isSafeInteger(value) || (value as number) < min) fail(field, min === 1 ? 'a positive integer' : 'a non-negative integer', value);
  const max = WORKFLOW_INPUT_LIMITS[limit];
  if ((value as number) > max) {
    throw new PruneInputError(`${field} must be at most ${max}, got ${show(value)} (the workflow's limit WORKFLOW_INPUT_LIMITS.${limit} in @ippro/workflow-core raises it)`);
  }
}

function checkNumber(field: string, value: unknown, ok: (n: number) => boolean, expected: string, optional = true): void {
  if (value === undefined && optional) return;
  if (!isNumber(value) || !ok(value)) fail(field, expected, value);
}

function checkOneOf(field: string, value: unknown, allowed: readonly string[], optional = true): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'string' || !allowed.includes(value)) fail(field, `one of ${allowed.join(', ')}`, value);
}

/** Spec schemes that name files or folders (on whatever machine reads them). */
const FILE_SCHEMES = ['json', 'images', 'npz'];

/**
 * A dataset reference: a spec a worker resolves by name, or a dataset artifact. `json:`,
 * `images:` and `npz:` specs name files on whatever machine reads them, so a run never carries
 * one: the data travels as an artifact instead (`ippro prune` packs them).
 */
export function checkDataset(field: string, ref: DatasetRef | undefined): void {
  if (typeof ref !== 'object' || ref === null) fail(field, 'a dataset reference { spec, artifactId? }', ref);
  if (typeof ref.spec !== 'string') fail(`${field}.spec`, 'a string', ref.spec);
  if (ref.draw !== undefined) {
    checkCount(`${field}.draw.size`, ref.draw.size, 'samples');
    if (!Number.isSafeInteger(ref.draw.seed) || ref.draw.seed < 0) fail(`${field}.draw.seed`, 'a non-negative integer', ref.draw.seed);
  }
  const artifactId: unknown = ref.artifactId;
  if (artifactId !== undefined && artifactId !== '') {
    if (typeof artifactId !== 'string' || !SHA256.test(artifactId)) fail(`${field}.artifactId`, 'a sha256 (64 lowercase hex digits)', artifactId);
    return;
  }
  if (ref.spec.trim() === '') fail(`${field}.spec`, 'a dataset spec when artifactId is not set', ref.spec);
  if (FILE_SCHEMES.some((scheme) => ref.spec.startsWith(`${scheme}:`))) {
    throw new PruneInputError(`${field}.spec '${show(ref.spec).slice(1, -1)}' names a file; send the data as a dataset artifact (${field}.artifactId)`);
  }
}

function checkBatchSize(field: string, value: unknown): void {
  checkCount(field, value, 'batchSize');
}

/** Fine-tuning settings (a run's, or each pruned model's in a comparison). */
export function checkFineTune(tune: FineTuneConfig | undefined): void {
  if (tune === undefined) return;
  checkDataset('fineTune.dataset', tune.dataset);
  checkBatchSize('fineTune.batchSize', tune.batchSize);
  checkCount('fineTune.steps', tune.steps, 'steps', 0);
  if (tune.repetitions !== undefined) checkCount('fineTune.repetitions', tune.repetitions, 'repetitions');
  if (tune.replicas !== undefined) checkCount('fineTune.replicas', tune.replicas, 'replicas');
  checkNumber('fineTune.learningRate', tune.learningRate, (n) => n > 0, 'a positive number', false);
  checkNumber('fineTune.momentum', tune.momentum, (n) => n >= 0 && n < 1, 'in [0, 1)');
  checkNumber('fineTune.weightDecay', tune.weightDecay, (n) => n >= 0, 'a non-negative number');
  checkNumber('fineTune.labelSmoothing', tune.labelSmoothing, (n) => n >= 0 && n < 1, 'in [0, 1)');
  const schedule = tune.learningRateSchedule;
  if (schedule !== undefined && !FINE_TUNE_SCHEDULES.includes(schedule)) fail('fineTune.learningRateSchedule', `one of ${FINE_TUNE_SCHEDULES.join(', ')}`, schedule);
  checkFineTuneOptimizer(tune);
  const distillation = tune.distillation;
  if (distillation !== undefined) {
    checkNumber('fineTune.distillation.weight', distillation.weight, (n) => n > 0 && n <= 1, 'a weight in (0, 1]', false);
    checkNumber('fineTune.distillation.temperature', distillation.temperature, (n) => n > 0, 'a positive number', false);
  }
}

/** AdamW's settings in range, and none of SGD's beside them (they would be ignored). */
function checkFineTuneOptimizer(tune: FineTuneConfig): void {
  const optimizer: unknown = tune.optimizer;
  if (optimizer === undefined) return;
  if (typeof optimizer !== 'object' || optimizer === null) fail('fineTune.optimizer', "AdamW's settings { kind: 'adamw', beta1, beta2, epsilon }", optimizer);
  const adamw = optimizer as NonNullable<FineTuneConfig['optimizer']>;
  const fault = adamwFault(adamw);
  if (fault !== undefined) fail(`fineTune.optimizer.${fault.field}`, fault.expected, adamw[fault.field]);
  const sgdOnly = (['momentum', 'nesterov'] as const).find((name) => tune[name] !== undefined);
  if (sgdOnly !== undefined) throw new PruneInputError(`fineTune.${sgdOnly} is a setting of SGD, not of fineTune.optimizer adamw (which has beta1 and beta2)`);
}

/** Batch-norm recalibration settings. */
export function checkRecalibration(recalibration: RecalibrationConfig | undefined): void {
  if (recalibration === undefined) return;
  checkDataset('recalibration.dataset', recalibration.dataset);
  checkBatchSize('recalibration.batchSize', recalibration.batchSize);
  checkCount('recalibration.batches', recalibration.batches, 'batches');
}

/**
 * A PROscore reading. The trajectory takes T optimizer steps over the scoring batches in order,
 * each step on the weights the previous one left: it cannot be split over batch or group shards.
 */
export function checkProscore(proscore: ProscoreConfig | undefined, shards: ShardConfig | undefined, includeBias: boolean, field = 'proscore'): void {
  if (proscore === undefined) return;
  checkOneOf(`${field}.reading`, proscore.reading, PROSCORE_READINGS);
  checkOneOf(`${field}.order`, proscore.order, REMOVAL_ORDERS);
  checkNumber(`${field}.weightDecay`, proscore.weightDecay, (n) => n >= 0, 'a non-negative number');
  if ((proscore.weightDecay ?? 0) > 0 && includeBias) {
    throw new PruneInputError(`${field}.weightDecay: the training objective decays kernels only, but scoring.includeBias puts biases in F; score without biases to add the penalty`);
  }
  const trajectory = proscore.trajectory;
  if (trajectory !== undefined) {
    if (proscore.reading !== 'trajectory') throw new PruneInputError(`${field}.trajectory is set, but ${field}.reading is ${show(proscore.reading ?? 'pooled')}, not 'trajectory'`);
    if (trajectory.steps !== undefined) checkCount(`${field}.trajectory.steps`, trajectory.steps, 'steps');
    checkNumber(`${field}.trajectory.learningRate`, trajectory.learningRate, (n) => n > 0, 'a positive number');
    checkNumber(`${field}.trajectory.momentum`, trajectory.momentum, (n) => n >= 0 && n < 1, 'in [0, 1)');
  }
  if (proscore.reading === 'trajectory') {
    for (const name of ['batchShards', 'layerShards'] as const) {
      const count = shards?.[name] ?? 1;
      if (count !== 1) {
        throw new PruneInputError(
          `${field}.reading 'trajectory' takes its optimizer steps over the scoring batches in order, one after the other, so it cannot be sharded: shards.${name} must be 1, got ${show(count)}`,
        );
      }
    }
  }
}

function checkPlan(input: PruneWorkflowInput): void {
  const plan = input.plan;
  if (typeof plan !== 'object' || plan === null) fail('plan', 'an object with target and rounds', plan);
  if (typeof plan.target !== 'object' || plan.target === null) fail('plan.target', 'an object { metric, fraction }', plan.target);
  checkOneOf('plan.target.metric', plan.target.metric, TARGET_METRICS, false);
  checkNumber('plan.target.fraction', plan.target.fraction, (n) => n > 0 && n < 1, 'a fraction strictly between 0 and 1', false);
  checkCount('plan.rounds', plan.rounds, 'rounds');
  checkOneOf('plan.schedule', plan.schedule, ['linear', 'geometric']);
  checkOneOf('plan.ranking', plan.ranking, ['global', 'uniform']);
  checkNumber('plan.maxLayerRatio', plan.maxLayerRatio, (n) => n > 0 && n <= 1, 'a fraction in (0, 1]');
  if (plan.minChannels !== undefined && !isPositiveInteger(plan.minChannels)) fail('plan.minChannels', 'a positive integer', plan.minChannels);
  if (plan.roundTo !== undefined && !isPositiveInteger(plan.roundTo)) fail('plan.roundTo', 'a positive integer', plan.roundTo);
  if (plan.ignoredLayers !== undefined && !(Array.isArray(plan.ignoredLayers) && plan.ignoredLayers.every((name) => typeof name === 'string'))) {
    fail('plan.ignoredLayers', 'a list of layer names', plan.ignoredLayers);
  }
  if (plan.groupKinds !== undefined && !(Array.isArray(plan.groupKinds) && plan.groupKinds.length > 0 && plan.groupKinds.every((kind) => typeof kind === 'string'))) {
    fail('plan.groupKinds', 'a non-empty list of group kinds', plan.groupKinds);
  }
}

/**
 * Distillation matches the teacher's class distribution (@ippro/models' perSampleDistillationLoss):
 * a sigmoid output's units are independent probabilities, so it is refused.
 */
export function checkDistillationOutput(tune: Pick<FineTuneConfig, 'distillation'> | undefined, output: ModelOutputKind | undefined): void {
  if (tune?.distillation !== undefined && output === 'sigmoid') {
    throw new PruneInputError('fineTune.distillation needs a softmax output (probabilities or logits), but the model output is sigmoid; set the distillation weight to 0');
  }
}

/**
 * Checks everything in a workflow input that can be checked without reading an artifact, so a
 * bad run fails before any work starts. Throws PruneInputError naming the field.
 */
export function checkPruneInput(input: PruneWorkflowInput): void {
  if (typeof input !== 'object' || input === null) fail('the input', 'an object', input);
  if (typeof input.modelArtifactId !== 'string' || !SHA256.test(input.modelArtifactId)) fail('modelArtifactId', 'a sha256 (64 lowercase hex digits)', input.modelArtifactId);
  checkOneOf('criterion', input.criterion, CRITERION_NAMES, false);
  checkOneOf('output', input.output, MODEL_OUTPUT_KINDS);
  checkNumber('lambda', input.lambda, (n) => n > 0, 'a positive number');
  if (input.scoring === undefined) {
    if (GRADIENT_CRITERION_NAMES.includes(input.criterion)) throw new PruneInputError(`criterion '${input.criterion}' scores from gradients and needs scoring data: set scoring`);
  } else {
    checkDataset('scoring.dataset', input.scoring.dataset);
    checkBatchSize('scoring.batchSize', input.scoring.batchSize);
    checkOneOf('scoring.batchNormMode', input.scoring.batchNormMode, ['inference', 'batch']);
  }
  if (input.proscore !== undefined && input.criterion !== 'proscore') throw new PruneInputError(`proscore sets how PROscore is read, but the criterion is ${show(input.criterion)}`);
  checkProscore(input.proscore, input.shards, input.scoring?.includeBias === true);
  checkRecalibration(input.recalibration);
  checkFineTune(input.fineTune);
  checkDistillationOutput(input.fineTune, input.output);
  if (typeof input.evaluation !== 'object' || input.evaluation === null) fail('evaluation', 'an object { dataset, batchSize }', input.evaluation);
  checkDataset('evaluation.dataset', input.evaluation.dataset);
  checkBatchSize('evaluation.batchSize', input.evaluation.batchSize);
  checkPlan(input);
  checkNumber('maxAccuracyDrop', input.maxAccuracyDrop, (n) => n >= 0 && n < 1, 'a fraction in [0, 1)');
  if (!Number.isSafeInteger(input.seed) || input.seed < 0) fail('seed', 'a non-negative integer', input.seed);
  checkShards(input);
  checkActivityConfig(input.activity);
}

/** Timeouts (seconds) and attempts of the compute activities, each within its limit. */
export function checkActivityConfig(activity: ActivityConfig | undefined): void {
  for (const [name, value] of Object.entries(activity ?? {})) {
    if (value !== undefined) checkCount(`activity.${name}`, value, name === 'maximumAttempts' ? 'attempts' : 'seconds');
  }
}

function checkShards(input: PruneWorkflowInput): void {
  const shards = input.shards ?? {};
  for (const name of ['batchShards', 'layerShards', 'evaluationShards'] as const) {
    if (shards[name] !== undefined) checkCount(`shards.${name}`, shards[name], 'shards');
  }
  if (shards.maxParallel !== undefined) checkCount('shards.maxParallel', shards.maxParallel, 'maxParallel');
}
