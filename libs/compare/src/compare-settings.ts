import { CRITERION_NAMES, GRADIENT_CRITERION_NAMES, MODEL_OUTPUT_KINDS } from '@ippro/workflow-core';
import type { CriterionName, TargetMetricName } from '@ippro/workflow-core';
import type { CompareInput } from './compare-types';

/** Criteria that read gradient statistics (the others read only weights). */
export const GRADIENT_CRITERIA: readonly CriterionName[] = GRADIENT_CRITERION_NAMES;

export const DEFAULT_MAX_PARALLEL = 4;

export function needsScoringPass(criterion: CriterionName): boolean {
  return GRADIENT_CRITERIA.includes(criterion);
}

/** The input's settings with defaults, checked. */
export interface CompareSettings {
  metric: TargetMetricName;
  randomSeeds: number;
  fineTuneSteps: number;
  batchShards: number;
  layerShards: number;
  evaluationShards: number;
  maxParallel: number;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${String(value)}`);
}

function checkCriteria(criteria: readonly CriterionName[]): void {
  if (!Array.isArray(criteria) || criteria.length === 0) throw new Error('criteria must name at least one criterion');
  const unknown = criteria.find((criterion) => !CRITERION_NAMES.includes(criterion));
  if (unknown !== undefined) throw new Error(`criteria: unknown criterion '${String(unknown)}'; expected one of ${CRITERION_NAMES.join(', ')}`);
  if (new Set(criteria).size !== criteria.length) throw new Error(`criteria lists a criterion twice: ${criteria.join(', ')}`);
}

function checkTargets(targets: readonly number[]): void {
  if (!Array.isArray(targets) || targets.length === 0) throw new Error('targets must hold at least one fraction');
  const bad = targets.find((target) => typeof target !== 'number' || !(target > 0 && target < 1));
  if (bad !== undefined) throw new Error(`targets: ${String(bad)} is not a fraction in (0, 1)`);
  if (new Set(targets).size !== targets.length) throw new Error(`targets lists a fraction twice: ${targets.join(', ')}`);
}

/** Throws an Error naming the first bad field; nothing runs before this passes. */
export function resolveCompareSettings(input: CompareInput): CompareSettings {
  if (!/^[0-9a-f]{64}$/.test(input.modelArtifactId)) {
    throw new Error(`modelArtifactId must be a sha256 (64 lowercase hex digits), got '${input.modelArtifactId}'`);
  }
  checkCriteria(input.criteria);
  checkTargets(input.targets);
  const metric = input.metric ?? 'flops';
  if (!['params', 'flops', 'channels'].includes(metric)) throw new Error(`metric must be params, flops or channels, got '${String(metric)}'`);
  if (input.criteria.some(needsScoringPass) && input.scoring === undefined) {
    throw new Error(`criteria ${input.criteria.filter(needsScoringPass).join(', ')} need scoring data: set scoring`);
  }
  if (input.output !== undefined && !MODEL_OUTPUT_KINDS.includes(input.output)) throw new Error(`output must be one of ${MODEL_OUTPUT_KINDS.join(', ')}, got '${String(input.output)}'`);
  if (input.lambda !== undefined && !(Number.isFinite(input.lambda) && input.lambda > 0)) throw new Error(`lambda must be a finite number > 0, got ${String(input.lambda)}`);
  if (!Number.isInteger(input.seed) || input.seed < 0) throw new Error(`seed must be a non-negative integer, got ${String(input.seed)}`);
  const fineTuneSteps = input.fineTune?.steps ?? 0;
  if (!Number.isInteger(fineTuneSteps) || fineTuneSteps < 0) throw new Error(`fineTune.steps must be a non-negative integer, got ${String(fineTuneSteps)}`);
  const settings: CompareSettings = {
    metric,
    randomSeeds: input.randomSeeds ?? 1,
    fineTuneSteps,
    batchShards: input.shards?.batchShards ?? 1,
    layerShards: input.shards?.layerShards ?? 1,
    evaluationShards: input.shards?.evaluationShards ?? input.shards?.batchShards ?? 1,
    maxParallel: input.shards?.maxParallel ?? DEFAULT_MAX_PARALLEL,
  };
  positiveInteger('randomSeeds', settings.randomSeeds);
  positiveInteger('shards.batchShards', settings.batchShards);
  positiveInteger('shards.layerShards', settings.layerShards);
  positiveInteger('shards.evaluationShards', settings.evaluationShards);
  positiveInteger('shards.maxParallel', settings.maxParallel);
  return settings;
}
