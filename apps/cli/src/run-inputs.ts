import { artifactKeyOf } from '@ippro/artifact-store';
import { batchNormalizationLayers, modelLimitsOf, setModelLimits } from '@ippro/graph';
import { modelToArtifact } from '@ippro/model-artifact';
import { ADAMW_DEFAULTS, SIGMOID_DISTILLATION_REFUSAL } from '@ippro/models';
import type { ClassifierOutput } from '@ippro/models';
import { effectiveConfig, flagOf, required } from '@ippro/settings';
import type { EffectiveConfig, Resolved } from '@ippro/settings';
import { stepsForEpochs } from '@ippro/workflow-core';
import type { DatasetRef, DistillationConfig, FineTuneConfig, ProscoreConfig, RecalibrationConfig } from '@ippro/workflow-core';
import { asBadInput, loadModel, loadModelGraph, resolveOutput } from './cli-inputs';
import { asUsage } from './command-settings';
import { runDatasets } from './dataset-refs';
import type { RunDatasets } from './dataset-refs';
import { UsageError } from './exit-codes';
import { modelWarnings } from './model-warnings';
import { DEFAULT_DISTILLATION_TEMPERATURE, DEFAULT_FINETUNE_EPOCHS, FINETUNE_DEFAULTS } from './run-settings';
import type { PROSCORE_SETTINGS, RUN_INPUT_SETTINGS } from './run-settings';

/** The parts of a run's input that `prune` and `compare` make alike from their shared settings. */

type RunInputSettings = Resolved<typeof RUN_INPUT_SETTINGS>;

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
export async function checkScoringSamples(settings: RunInputSettings, scored: boolean, dataSize: () => Promise<number>): Promise<void> {
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

export function fineTuneBudget(settings: RunInputSettings): FineTuneBudget {
  const { finetuneSteps, finetuneEpochs } = settings.values;
  if (finetuneSteps !== undefined && finetuneEpochs !== undefined) {
    throw new UsageError(`${settings.where('finetuneSteps')} and ${settings.where('finetuneEpochs')} both set the fine-tuning budget; give one`);
  }
  return finetuneSteps !== undefined ? { steps: finetuneSteps } : { epochs: finetuneEpochs ?? DEFAULT_FINETUNE_EPOCHS };
}

/** Fine-tuning's rate and weight decay: as given, else FINETUNE_DEFAULTS of its optimizer. */
function fineTuneRates(settings: RunInputSettings): { learningRate: number; weightDecay: number } {
  const { finetuneOptimizer, finetuneLr, finetuneWeightDecay } = settings.values;
  const defaults = FINETUNE_DEFAULTS[finetuneOptimizer];
  return { learningRate: finetuneLr ?? defaults.lr, weightDecay: finetuneWeightDecay ?? defaults.weightDecay };
}

/**
 * The effective configuration with what the run used where a setting was left to its default that
 * depends on others: the fine-tuning epochs, its rate and weight decay, and distillation's temperature.
 */
export function runConfigOf(settings: RunInputSettings): EffectiveConfig {
  const budget = fineTuneBudget(settings);
  const { distillWeight, temperature } = settings.values;
  const { learningRate, weightDecay } = fineTuneRates(settings);
  return {
    ...effectiveConfig(settings),
    ...(budget.epochs === undefined ? {} : { 'finetune-epochs': budget.epochs }),
    'finetune-lr': learningRate,
    'finetune-weight-decay': weightDecay,
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
export function fineTuneOf(settings: RunInputSettings, dataset: DatasetRef, steps: number, output: ClassifierOutput): Omit<FineTuneConfig, 'replicas' | 'repetitions'> | undefined {
  const distillation = distillationOf(settings, steps > 0, output);
  if (steps === 0) return undefined;
  const { batchSize, finetuneOptimizer, finetuneSchedule } = settings.values;
  return {
    dataset,
    batchSize,
    steps,
    ...fineTuneRates(settings),
    ...(finetuneOptimizer === 'adamw' ? { optimizer: { kind: 'adamw', ...ADAMW_DEFAULTS } } : {}),
    ...(finetuneSchedule === 'constant' ? {} : { learningRateSchedule: finetuneSchedule }),
    ...(distillation === undefined ? {} : { distillation }),
  };
}

/**
 * Distillation from the input model; undefined at weight 0. Refused without fine-tuning, which is
 * where it acts, and for a sigmoid output (@ippro/models' SIGMOID_DISTILLATION_REFUSAL).
 */
function distillationOf(settings: RunInputSettings, fineTuning: boolean, output: ClassifierOutput): DistillationConfig | undefined {
  const { distillWeight, temperature } = settings.values;
  if (distillWeight === 0) {
    if (settings.given('temperature')) throw new UsageError(`${settings.where('temperature')} is distillation's temperature; set --distill-weight above 0 to distil`);
    return undefined;
  }
  if (!fineTuning) throw new UsageError(`${settings.where('distillWeight')} distils while fine-tuning, but this run does not fine-tune`);
  if (output === 'sigmoid') throw new UsageError(`${settings.where('distillWeight')}: ${SIGMOID_DISTILLATION_REFUSAL}`);
  return { weight: distillWeight, temperature: temperature ?? DEFAULT_DISTILLATION_TEMPERATURE };
}

const RECALIBRATION_SETTINGS = ['bnRecalibrationBatches', 'bnRecalibrationData', 'bnRecalibrationBatchSize'] as const;

/**
 * Batch-norm recalibration after surgery, its data defaulting to the fine-tuning data; none for 0
 * batches, and none for a model without a BatchNormalization layer (`model.batchNorm` false),
 * which has nothing to recalibrate: with a warning when the run's settings ask for it.
 *
 * A model without batch norm is skipped here, not in the workflows: every input made from settings
 * (flags, config files, schedules), with the default's recalibration, comes through this function,
 * where the model is loaded, and the run's recorded input then has none. A workflow input names
 * its recalibration itself; the workflows see artifact ids, not layers, and would need another
 * activity call to look, while such an input on a model without batch norm stays correct:
 * batchNormStatistics finds no layer and runs no forward pass.
 */
export async function recalibrationOf(
  settings: RunInputSettings,
  datasets: RunDatasets,
  tuning: { spec: string; flag: string },
  model: { name: string; batchNorm: boolean },
): Promise<{ recalibration?: RecalibrationConfig; warning?: string }> {
  const { bnRecalibrationBatches, bnRecalibrationData, bnRecalibrationBatchSize, batchSize } = settings.values;
  if (bnRecalibrationBatches === 0) {
    const stray = (['bnRecalibrationData', 'bnRecalibrationBatchSize'] as const).find((name) => settings.given(name));
    if (stray !== undefined) throw new UsageError(`${settings.where(stray)} sets batch-norm recalibration, which is off; set --bn-recalibration-batches`);
    return {};
  }
  if (!model.batchNorm) {
    const asked = RECALIBRATION_SETTINGS.find((name) => settings.given(name));
    return asked === undefined ? {} : { warning: `${settings.where(asked)}: ${model.name} has no BatchNormalization layer, so nothing is recalibrated` };
  }
  const dataset = bnRecalibrationData === undefined ? await datasets.ref(tuning.spec, tuning.flag) : await datasets.ref(bnRecalibrationData, settings.where('bnRecalibrationData'));
  return { recalibration: { dataset, batchSize: bnRecalibrationBatchSize ?? batchSize, batches: bnRecalibrationBatches } };
}

/**
 * The report's recalibration fact when the run's configuration asked for batch-norm recalibration
 * and its input has none: the model had no batch norm (recalibrationOf). Empty otherwise, where
 * the report's own fact reads right.
 */
export function skippedRecalibrationFacts(input: { recalibration?: RecalibrationConfig }, config: EffectiveConfig | undefined): [string, string][] {
  const batches = config?.[flagOf('bnRecalibrationBatches')];
  if (input.recalibration !== undefined || typeof batches !== 'number' || batches === 0) return [];
  return [['batch-norm recalibration', 'none (the model has no BatchNormalization layer)']];
}

/** A run's model and data, checked against each other, and the recovery settings made from them, ready for its input. */
export interface RunInputs {
  modelArtifactId: string;
  /** The model's output kind, resolved from --output and the model. */
  output: ClassifierOutput;
  /** What looks wrong with the model (printed on stderr, recorded in summary.json and the report). */
  warnings: string[];
  data: DatasetRef;
  evaluation: DatasetRef;
  /** The report-only test data, when the command takes one and it is given. */
  test?: DatasetRef;
  /** Fine-tuning (fineTuneOf) of the budget split over `shares`; undefined for 0 steps. */
  fineTune?: Omit<FineTuneConfig, 'replicas' | 'repetitions'>;
  recalibration?: RecalibrationConfig;
  /** How many samples --data holds (for the checks of a scoring draw and of the trajectory). */
  dataSize(): Promise<number>;
  /** The model artifact first, then the datasets that travel as artifacts. */
  artifacts: Uint8Array[];
  /** The spec a dataset ref of this run was made from, as it was given (a ref that travels as an artifact has no spec of its own). */
  specOf(ref: DatasetRef): string;
}

/** How a run uses its inputs: where it runs, and how the fine-tuning budget is shared (fineTuneSteps). */
export interface RunShape {
  local: boolean;
  quiet: boolean;
  shares: { rounds: number; repetitions: number; replicas: number };
  /** --test-data's spec and flag, for commands that take it. */
  test?: { spec: string; flag: string };
}

/**
 * Loads the model (its channel graph must build; a layer it cannot prune is kept whole with a
 * warning, or refused with --strict-layers), resolves its output kind, and opens every
 * dataset of the run against it (`prune`, `compare`, `schedule create`): any fault is bad input,
 * found before anything is written or started.
 */
export async function prepareRunInputs(settings: RunInputSettings, run: RunShape): Promise<RunInputs> {
  const values = settings.values;
  const modelDir = asUsage(() => required(settings, 'model'));
  const dataSpec = asUsage(() => required(settings, 'data'));
  // The limits every model this process builds is checked against: this one, and a local run's.
  setModelLimits(modelLimitsOf(values));
  const model = await loadModel(modelDir);
  try {
    await loadModelGraph(model, modelDir, { strict: values.strictLayers, warn: true });
    const output = await resolveOutput(model, values.output, modelDir);
    const modelBytes = await asBadInput(`model ${modelDir}`, () => modelToArtifact(model));
    const warnings = modelWarnings(model, modelDir);
    const artifacts: Uint8Array[] = [modelBytes];
    const datasets: RunDatasets = runDatasets(
      {
        local: run.local,
        model,
        modelName: `model ${modelDir}`,
        output,
        quiet: run.quiet,
        ...(values.dataDir === undefined ? {} : { dataDir: values.dataDir }),
        ...(values.normalize === undefined ? {} : { normalize: values.normalize }),
      },
      artifacts,
    );
    const data = await datasets.ref(dataSpec, settings.where('data'));
    const evaluation = values.evalData === undefined ? data : await datasets.ref(values.evalData, settings.where('evalData'));
    const test = run.test === undefined ? undefined : await datasets.ref(run.test.spec, run.test.flag);
    const tuning = { spec: values.finetuneData ?? dataSpec, flag: settings.where(values.finetuneData === undefined ? 'data' : 'finetuneData') };
    const steps = await fineTuneSteps(fineTuneBudget(settings), () => datasets.size(tuning.spec, tuning.flag), values.batchSize, run.shares);
    const fineTune = fineTuneOf(settings, steps === 0 ? data : await datasets.ref(tuning.spec, tuning.flag), steps, output);
    const batchNorm = batchNormalizationLayers(model).length > 0;
    const { recalibration, warning } = await recalibrationOf(settings, datasets, tuning, { name: `model ${modelDir}`, batchNorm });
    // --data was opened (or sized from its spec) above: its size needs the model no more.
    const dataSize = (): Promise<number> => datasets.size(dataSpec, settings.where('data'));
    return {
      modelArtifactId: artifactKeyOf(modelBytes),
      output,
      warnings: warning === undefined ? warnings : [...warnings, warning],
      data,
      evaluation,
      ...(test === undefined ? {} : { test }),
      ...(fineTune === undefined ? {} : { fineTune }),
      ...(recalibration === undefined ? {} : { recalibration }),
      dataSize,
      artifacts,
      specOf: (ref) => datasets.specOf(ref),
    };
  } finally {
    model.dispose();
  }
}
