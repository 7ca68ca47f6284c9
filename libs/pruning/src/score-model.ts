import type { LabeledDataset } from '@ippro/data';
import type { ChannelGraph } from '@ippro/graph';
import { groupWeights } from '@ippro/importance';
import type { ScoreTable } from '@ippro/importance';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { needsGradientStats, scoreByCriterion } from './criteria';
import type { Criterion } from './criteria';
import { computeShardedGradStats } from './sharded-grad-stats';
import type { ScoringSettings } from './sharded-grad-stats';
import { PruningInputError } from './pruning-input-error';

export interface ScoreModelSettings {
  criterion: Criterion;
  lambda?: number;
  /** Seeds the random criterion. */
  seed?: number;
  /** How to compute gradient statistics; needed by proscore and taylor. */
  scoring?: ScoringSettings;
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
  const stats = await computeShardedGradStats(model, graph, dataset, settings.scoring, onShardDone);
  return scoreByCriterion(settings.criterion, {
    weights,
    stats,
    ...(settings.lambda === undefined ? {} : { lambda: settings.lambda }),
  });
}

function seedOf(settings: ScoreModelSettings): { seed?: number } {
  return settings.seed === undefined ? {} : { seed: settings.seed };
}
