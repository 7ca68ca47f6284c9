import { checkActivityConfig, checkCount, checkDataset, checkDistillationOutput, checkFineTune, checkProscore, checkRecalibration, MODEL_OUTPUT_KINDS } from '@ippro/workflow-core';
import type { TargetMetricName } from '@ippro/workflow-core';
import type { CompareInput } from './compare-types';
import { needsScoringData, parseCriterionVariant, variantReading } from './criterion-variants';
import type { CriterionVariant } from './criterion-variants';

export const DEFAULT_MAX_PARALLEL = 4;

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

/** The criteria as variants, checked: known, none twice. */
export function criterionVariants(criteria: readonly string[]): CriterionVariant[] {
  if (!Array.isArray(criteria) || criteria.length === 0) throw new Error('criteria must name at least one criterion');
  const variants = criteria.map((criterion) => {
    try {
      return parseCriterionVariant(criterion);
    } catch (error) {
      throw new Error(`criteria: ${(error as Error).message}`);
    }
  });
  if (new Set(criteria).size !== criteria.length) throw new Error(`criteria lists a criterion twice: ${criteria.join(', ')}`);
  return variants;
}

function checkTargets(targets: readonly number[]): void {
  if (!Array.isArray(targets) || targets.length === 0) throw new Error('targets must hold at least one fraction');
  const bad = targets.find((target) => typeof target !== 'number' || !(target > 0 && target < 1));
  if (bad !== undefined) throw new Error(`targets: ${String(bad)} is not a fraction in (0, 1)`);
  if (new Set(targets).size !== targets.length) throw new Error(`targets lists a fraction twice: ${targets.join(', ')}`);
  checkCount('the number of targets', targets.length, 'targets');
}

/** Throws an Error naming the first bad field; nothing runs before this passes. */
export function resolveCompareSettings(input: CompareInput): CompareSettings {
  if (!/^[0-9a-f]{64}$/.test(input.modelArtifactId)) {
    throw new Error(`modelArtifactId must be a sha256 (64 lowercase hex digits), got '${input.modelArtifactId}'`);
  }
  const variants = criterionVariants(input.criteria);
  checkTargets(input.targets);
  const metric = input.metric ?? 'flops';
  if (!['params', 'flops', 'channels'].includes(metric)) throw new Error(`metric must be params, flops or channels, got '${String(metric)}'`);
  const scored = variants.filter(needsScoringData);
  if (scored.length > 0 && input.scoring === undefined) throw new Error(`criteria ${scored.map((variant) => variant.label).join(', ')} need scoring data: set scoring`);
  for (const variant of variants) checkProscore(variantReading(variant, input.proscore), input.shards, input.scoring?.includeBias === true, `criteria '${variant.label}': proscore`);
  if (input.scoringSamples !== undefined) {
    checkCount('scoringSamples', input.scoringSamples, 'samples');
    if (input.scoring === undefined) throw new Error('scoringSamples draws from scoring.dataset: set scoring');
  }
  if (input.seeds !== undefined) {
    checkCount('seeds', input.seeds, 'seeds');
    if (input.randomSeeds !== undefined) throw new Error('give seeds (runs of every criterion) or randomSeeds (runs of the random criterion), not both');
  }
  checkRecalibration(input.recalibration);
  checkFineTune(input.fineTune);
  if (input.test !== undefined) {
    checkDataset('test.dataset', input.test.dataset);
    checkCount('test.batchSize', input.test.batchSize, 'batchSize');
  }
  if (input.output !== undefined && !MODEL_OUTPUT_KINDS.includes(input.output)) throw new Error(`output must be one of ${MODEL_OUTPUT_KINDS.join(', ')}, got '${String(input.output)}'`);
  checkDistillationOutput(input.fineTune, input.output);
  if (input.lambda !== undefined && !(Number.isFinite(input.lambda) && input.lambda > 0)) throw new Error(`lambda must be a finite number > 0, got ${String(input.lambda)}`);
  if (!Number.isInteger(input.seed) || input.seed < 0) throw new Error(`seed must be a non-negative integer, got ${String(input.seed)}`);
  const fineTuneSteps = input.fineTune?.steps ?? 0;
  checkCount('fineTune.steps', fineTuneSteps, 'steps', 0);
  for (const [field, config] of [['scoring', input.scoring], ['fineTune', input.fineTune], ['evaluation', input.evaluation]] as const) {
    if (config !== undefined) checkCount(`${field}.batchSize`, config.batchSize, 'batchSize');
  }
  checkActivityConfig(input.activity);
  const settings: CompareSettings = {
    metric,
    randomSeeds: input.randomSeeds ?? 1,
    fineTuneSteps,
    batchShards: input.shards?.batchShards ?? 1,
    layerShards: input.shards?.layerShards ?? 1,
    evaluationShards: input.shards?.evaluationShards ?? input.shards?.batchShards ?? 1,
    maxParallel: input.shards?.maxParallel ?? DEFAULT_MAX_PARALLEL,
  };
  checkCount('randomSeeds', settings.randomSeeds, 'seeds');
  checkCount('shards.batchShards', settings.batchShards, 'shards');
  checkCount('shards.layerShards', settings.layerShards, 'shards');
  checkCount('shards.evaluationShards', settings.evaluationShards, 'shards');
  checkCount('shards.maxParallel', settings.maxParallel, 'maxParallel');
  return settings;
}
