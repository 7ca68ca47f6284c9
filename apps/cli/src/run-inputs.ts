import { effectiveConfig } from '@ippro/settings';
import type { EffectiveConfig, Resolved } from '@ippro/settings';
import { FINE_TUNE_WEIGHT_DECAY, stepsForEpochs } from '@ippro/workflow-core';
import type { DatasetRef, DistillationConfig, FineTuneConfig, ProscoreConfig, RecalibrationConfig } from '@ippro/workflow-core';
import type { RunDatasets } from './dataset-refs';
import { UsageError } from './exit-codes';
import { DEFAULT_DISTILLATION_TEMPERATURE, DEFAULT_FINETUNE_EPOCHS } from './run-settings';
import type { PROSCORE_SETTINGS, RUN_INPUT_SETTINGS } from './run-settings';

/** The parts of a run's input that `prune` and `compare` make alike from their shared settings. */

type RunInputs = Resolved<typeof RUN_INPUT_SETTINGS>;

const TRAJECTORY_SETTINGS = ['trajectorySteps', 'trajectoryLr', 'trajectoryMomentum'] as const;

/**
 * How PROscore is read, from --proscore-reading, --proscore-order and --proscore-weight-decay, and
 * the trajectory's own settings when the run reads the trajectory (`trajectory`); undefined for
 * the default reading. Trajectory settings given to a run that never reads it are bad input.
 */
export function proscoreOf(settings: Resolved<typeof PROSCORE_SETTINGS & Pick<typeof RUN_INPUT_SETTINGS, 'includeBias'>>, trajectory: boolean): ProscoreConfig | undefined {
  const { proscoreReading, proscoreOrder, proscoreWeightDecay, trajectorySteps, trajectoryLr, trajectoryMomentum } = settings.values;
  const stray = TRAJECTORY_SETTINGS.find((name) => settings.given(name));
  if (stray !== undefined && !trajectory) throw new UsageError(`${settings.where(stray)} sets the trajectory reading, which this run does not read (--proscore-reading trajectory)`);
  if (proscoreWeightDecay > 0 && settings.values.includeBias) {
    throw new UsageError(`${settings.where('proscoreWeightDecay')}: the training objective decays kernels only, but --include-bias puts biases in F`);
  }
  const config: ProscoreConfig = {
    ...(proscoreReading === 'pooled' ? {} : { reading: proscoreReading }),
    ...(proscoreOrder === 'ascending' ? {} : { order: proscoreOrder }),
    ...(proscoreWeightDecay === 0 ? {} : { weightDecay: proscoreWeightDecay }),
    ...(trajectory
      ? {
          trajectory: {
            ...(trajectorySteps === undefined ? {} : { steps: trajectorySteps }),
            ...(trajectoryLr === undefined ? {} : { learningRate: trajectoryLr }),
            ...(trajectoryMomentum === undefined ? {} : { momentum: trajectoryMomentum }),
          },
        }
      : {}),
  };
  return Object.keys(config).length === 0 ? undefined : config;
}

/** A draw of scoring samples is read by a criterion of the run (`scored`) and fits in --data. */
export async function checkScoringSamples(settings: RunInputs, scored: boolean, dataSize: () => Promise<number>): Promise<void> {
  const { scoringSamples } = settings.values;
  if (scoringSamples === undefined) return;
  if (!scored) throw new UsageError(`${settings.where('scoringSamples')} draws the scoring data, which no criterion of this run reads`);
  const size = await dataSize();
  if (scoringSamples > size) throw new UsageError(`${settings.where('scoringSamples')} ${scoringSamples} is more than the ${size} samples of ${settings.where('data')}`);
}

/** T within the scoring data: the trajectory takes one scoring batch per step. */
export async function checkTrajectorySteps(settings: Resolved<typeof PROSCORE_SETTINGS>, scoringSamples: () => number | Promise<number>, batchSize: number): Promise<void> {
  const { trajectorySteps } = settings.values;
  if (trajectorySteps === undefined) return;
  const batches = Math.ceil((await scoringSamples()) / batchSize);
  if (trajectorySteps > batches) {
    throw new UsageError(`${settings.where('trajectorySteps')} ${trajectorySteps}: the trajectory takes one scoring batch per step, and the scoring data has ${batches} batches of ${batchSize}`);
  }
}

/** The fine-tuning budget: K steps as given, or E epochs (--finetune-epochs, DEFAULT_FINETUNE_EPOCHS when neither is given). */
export type FineTuneBudget = { steps: number; epochs?: undefined } | { epochs: number; steps?: undefined };

export function fineTuneBudget(settings: RunInputs): FineTuneBudget {
  const { finetuneSteps, finetuneEpochs } = settings.values;
  if (finetuneSteps !== undefined && finetuneEpochs !== undefined) {
    throw new UsageError(`${settings.where('finetuneSteps')} and ${settings.where('finetuneEpochs')} both set the fine-tuning budget; give one`);
  }
  return finetuneSteps !== undefined ? { steps: finetuneSteps } : { epochs: finetuneEpochs ?? DEFAULT_FINETUNE_EPOCHS };
}

/**
 * The effective configuration with what the run used where a setting was left to its default that
 * depends on others: the fine-tuning epochs, and distillation's temperature.
 */
export function runConfigOf(settings: RunInputs): EffectiveConfig {
  const budget = fineTuneBudget(settings);
  const { distillWeight, temperature } = settings.values;
  return {
    ...effectiveConfig(settings),
    ...(budget.epochs === undefined ? {} : { 'finetune-epochs': budget.epochs }),
    ...(distillWeight > 0 && temperature === undefined ? { temperature: DEFAULT_DISTILLATION_TEMPERATURE } : {}),
  };
}

/** K, each replica's steps per repetition, for the budget: stepsForEpochs over the run's rounds, repetitions and replicas. */
export async function fineTuneSteps(
  budget: FineTuneBudget,
  samples: () => Promise<number>,
  batchSize: number,
  shares: { rounds: number; repetitions: number; replicas: number },
): Promise<number> {
  if (budget.epochs === undefined) return budget.steps;
  return budget.epochs === 0 ? 0 : stepsForEpochs(budget.epochs, await samples(), batchSize, shares);
}

/**
 * The fine-tuning of a run's input (what a pruned model gets in `compare`; `prune` adds its
 * replicas and repetitions), undefined for 0 steps, where distillation settings are bad input.
 */
export function fineTuneOf(settings: RunInputs, dataset: DatasetRef, steps: number): Omit<FineTuneConfig, 'replicas' | 'repetitions'> | undefined {
  const distillation = distillationOf(settings, steps > 0);
  if (steps === 0) return undefined;
  const { batchSize, finetuneLr, finetuneSchedule } = settings.values;
  return {
    dataset,
    batchSize,
    steps,
    learningRate: finetuneLr,
    weightDecay: FINE_TUNE_WEIGHT_DECAY,
    ...(finetuneSchedule === 'constant' ? {} : { learningRateSchedule: finetuneSchedule }),
    ...(distillation === undefined ? {} : { distillation }),
  };
}

/** Distillation from the input model; undefined at weight 0. Refused without fine-tuning, which is where it acts. */
function distillationOf(settings: RunInputs, fineTuning: boolean): DistillationConfig | undefined {
  const { distillWeight, temperature } = settings.values;
  if (distillWeight === 0) {
    if (settings.given('temperature')) throw new UsageError(`${settings.where('temperature')} is distillation's temperature; set --distill-weight above 0 to distil`);
    return undefined;
  }
  if (!fineTuning) throw new UsageError(`${settings.where('distillWeight')} distils while fine-tuning, but this run does not fine-tune`);
  return { weight: distillWeight, temperature: temperature ?? DEFAULT_DISTILLATION_TEMPERATURE };
}

/** Batch-norm recalibration after surgery; undefined for 0 batches. Its data defaults to the fine-tuning data. */
export async function recalibrationOf(settings: RunInputs, datasets: RunDatasets, tuning: { spec: string; flag: string }): Promise<RecalibrationConfig | undefined> {
  const { bnRecalibrationBatches, bnRecalibrationData, bnRecalibrationBatchSize, batchSize } = settings.values;
  if (bnRecalibrationBatches === 0) {
    const stray = (['bnRecalibrationData', 'bnRecalibrationBatchSize'] as const).find((name) => settings.given(name));
    if (stray !== undefined) throw new UsageError(`${settings.where(stray)} sets batch-norm recalibration, which is off; set --bn-recalibration-batches`);
    return undefined;
  }
  const dataset = bnRecalibrationData === undefined ? await datasets.ref(tuning.spec, tuning.flag) : await datasets.ref(bnRecalibrationData, settings.where('bnRecalibrationData'));
  return { dataset, batchSize: bnRecalibrationBatchSize ?? batchSize, batches: bnRecalibrationBatches };
}
