import type { DatasetRef, PruneWorkflowInput } from './prune-types';
import { CRITERION_NAMES, FINE_TUNE_SCHEDULES, GRADIENT_CRITERION_NAMES, MODEL_OUTPUT_KINDS } from './prune-types';

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

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isPositiveInteger = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) > 0;

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
function checkDataset(field: string, ref: DatasetRef | undefined): void {
  if (typeof ref !== 'object' || ref === null) fail(field, 'a dataset reference { spec, artifactId? }', ref);
  if (typeof ref.spec !== 'string') fail(`${field}.spec`, 'a string', ref.spec);
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
  if (!isPositiveInteger(value)) fail(field, 'a positive integer', value);
}

function checkFineTune(input: PruneWorkflowInput): void {
  const tune = input.fineTune;
  if (tune === undefined) return;
  checkDataset('fineTune.dataset', tune.dataset);
  checkBatchSize('fineTune.batchSize', tune.batchSize);
  checkNumber('fineTune.learningRate', tune.learningRate, (n) => n > 0, 'a positive number', false);
  checkNumber('fineTune.momentum', tune.momentum, (n) => n >= 0 && n < 1, 'in [0, 1)');
  checkNumber('fineTune.weightDecay', tune.weightDecay, (n) => n >= 0, 'a non-negative number');
  checkNumber('fineTune.labelSmoothing', tune.labelSmoothing, (n) => n >= 0 && n < 1, 'in [0, 1)');
  const schedule = tune.learningRateSchedule;
  if (schedule !== undefined && !FINE_TUNE_SCHEDULES.includes(schedule)) fail('fineTune.learningRateSchedule', `one of ${FINE_TUNE_SCHEDULES.join(', ')}`, schedule);
}

function checkPlan(input: PruneWorkflowInput): void {
  const plan = input.plan;
  if (typeof plan !== 'object' || plan === null) fail('plan', 'an object with target and rounds', plan);
  if (typeof plan.target !== 'object' || plan.target === null) fail('plan.target', 'an object { metric, fraction }', plan.target);
  checkOneOf('plan.target.metric', plan.target.metric, TARGET_METRICS, false);
  checkNumber('plan.target.fraction', plan.target.fraction, (n) => n > 0 && n < 1, 'a fraction strictly between 0 and 1', false);
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
  checkFineTune(input);
  if (typeof input.evaluation !== 'object' || input.evaluation === null) fail('evaluation', 'an object { dataset, batchSize }', input.evaluation);
  checkDataset('evaluation.dataset', input.evaluation.dataset);
  checkBatchSize('evaluation.batchSize', input.evaluation.batchSize);
  checkPlan(input);
  checkNumber('maxAccuracyDrop', input.maxAccuracyDrop, (n) => n >= 0 && n < 1, 'a fraction in [0, 1)');
  if (!Number.isSafeInteger(input.seed) || input.seed < 0) fail('seed', 'a non-negative integer', input.seed);
  const activity = input.activity ?? {};
  for (const [name, value] of Object.entries(activity)) {
    if (value !== undefined && !isPositiveInteger(value)) fail(`activity.${name}`, 'a positive integer', value);
  }
}
