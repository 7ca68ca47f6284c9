import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { ChannelGraph } from '@ippro/graph';
import { groupWeights, proscoreTrajectory } from '@ippro/importance';
import type { BatchNormMode, ScoreTable, ScoringBatch } from '@ippro/importance';
import type { ProscoreConfig } from '@ippro/workflow-core';
import type { OutputSetting } from '@ippro/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { needsGradientStats, scoreByCriterion, statsReading, trajectoryOptions } from './criteria';
import type { Criterion } from './criteria';
import { datasetBatches } from './dataset-batches';
import { computeShardedGradStats } from './sharded-grad-stats';
import type { ScoringSettings } from './sharded-grad-stats';
import { PruningInputError } from './pruning-input-error';

export interface ScoreModelSettings {
  criterion: Criterion;
  lambda?: number;
  /** How PROscore is read; absent: pooled, ascending, no weight decay. */
  proscore?: ProscoreConfig;
  /** Seeds the random criterion. */
  seed?: number;
  /** How to compute gradient statistics; needed by proscore and taylor. */
  scoring?: ScoringSettings;
}

/** Where a caller joins the trajectory's batch loop: before each step (to stop, or yield) and after it. */
export interface TrajectoryHooks {
  beforeStep?: () => Promise<void>;
  afterStep?: (done: number, total: number, samples: number) => void;
}

/**
 * PROscore's trajectory reading (docs/ippro.md section 3) over batches 0..T-1 of the scoring
 * data in dataset order: one sequential pass, the reading that cannot be sharded.
 */
export async function scoreTrajectory(
  model: LayersModel,
  graph: ChannelGraph,
  dataset: LabeledDataset,
  settings: { proscore: ProscoreConfig; lambda?: number; batchSize: number; includeBias: boolean; batchNormMode?: BatchNormMode | undefined; output?: OutputSetting | undefined },
  hooks: TrajectoryHooks = {},
): Promise<ScoreTable> {
  const options = trajectoryOptions(settings.proscore, {
    ...(settings.lambda === undefined ? {} : { lambda: settings.lambda }),
    scoringBatches: batchCount(dataset, settings.batchSize),
    includeBias: settings.includeBias,
    batchNormMode: settings.batchNormMode ?? 'inference',
    output: settings.output ?? 'auto',
  });
  let done = 0;
  let samples = 0;
  const stepDone = (size: number): void => {
    done += 1;
    samples += size;
    hooks.afterStep?.(done, options.steps, samples);
  };
  let last = 0;
  async function* steps(): AsyncGenerator<ScoringBatch> {
    for (const batch of datasetBatches(dataset, { start: 0, end: options.steps }, { batchSize: settings.batchSize })) {
      await hooks.beforeStep?.();
      last = batch.labels.length;
      yield { inputs: batch.x, labels: batch.y };
      stepDone(last);
    }
  }
  const table = await proscoreTrajectory(model, graph, steps(), options);
  // The trajectory stops reading after its last step, so that step is reported here.
  if (done < options.steps) stepDone(last);
  return table;
}

/** Scores every prunable group of the model by one criterion. */
export async function scoreModel(
  model: LayersModel,
  graph: ChannelGraph,
  dataset: LabeledDataset | undefined,
  settings: ScoreModelSettings,
  onShardDone?: (done: number, total: number) => void,
): Promise<ScoreTable> {
  const includeBias = settings.scoring?.includeBias ?? false;
  const weights = groupWeights(model, graph, { includeBias });
  if (!needsGradientStats(settings.criterion)) {
    return scoreByCriterion(settings.criterion, { weights, ...seedOf(settings) });
  }
  if (dataset === undefined || settings.scoring === undefined) {
    throw new PruningInputError(`criterion '${settings.criterion}' needs scoring data`);
  }
  const lambda = settings.lambda === undefined ? {} : { lambda: settings.lambda };
  if (settings.criterion === 'proscore' && settings.proscore?.reading === 'trajectory') {
    const { batchSize, batchNormMode, output } = settings.scoring;
    return scoreTrajectory(model, graph, dataset, { proscore: settings.proscore, ...lambda, batchSize, includeBias, batchNormMode, output }, onShardDone === undefined ? {} : { afterStep: onShardDone });
  }
  const stats = await computeShardedGradStats(model, graph, dataset, settings.scoring, onShardDone);
  return scoreByCriterion(settings.criterion, { weights, stats, ...lambda, proscoreReading: statsReading(settings.proscore) });
}

function seedOf(settings: ScoreModelSettings): { seed?: number } {
  return settings.seed === undefined ? {} : { seed: settings.seed };
}
