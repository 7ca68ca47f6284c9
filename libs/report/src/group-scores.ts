import { buildChannelGraph } from '@ippro/graph';
import type { ChannelGroup } from '@ippro/graph';
import {
  DEFAULT_LAMBDA,
  batchNormScaleScores,
  deserializeGradStats,
  groupWeights,
  l1Scores,
  l2Scores,
  mergeGradStatsInOrder,
  proscoreFromStats,
  taylorScores,
} from '@ippro/importance';
import type { GradStats, ScoreTable } from '@ippro/importance';
import { modelFromArtifact } from '@ippro/model-artifact';
import type { GroupScores, ReadArtifact, ScoreName, ScoringRecord } from './run-record';

export interface ScoringPassOptions {
  modelArtifactId: string;
  /** Per layer shard, the batch shards' statistics in merge order; absent: weights-only scores. */
  statsArtifactIds?: string[][];
  lambda?: number;
  includeBias?: boolean;
  round?: number;
}

/** Merges a pass's statistics in the order the run merged them (batch shards, then layer shards). */
async function mergedStats(read: ReadArtifact, ids: readonly (readonly string[])[]): Promise<GradStats> {
  const perLayerShard: GradStats[] = [];
  for (const shard of ids) {
    const parts: GradStats[] = [];
    for (const id of shard) parts.push(deserializeGradStats(await read(id)));
    perLayerShard.push(mergeGradStatsInOrder(parts));
  }
  return mergeGradStatsInOrder(perLayerShard);
}

function firstUnitLayer(group: ChannelGroup): string {
  return (group.members.find((member) => member.kind !== 'batchnorm') ?? group.members[0])?.layer ?? '';
}

const finiteOrNull = (score: number): number | null => (Number.isFinite(score) ? score : null);

/**
 * PROscore, L2, L1, Taylor and batch-norm scale of every prunable group of one scoring pass,
 * recomputed from the pass's own statistics artifacts (the gradient ones only when it had some).
 */
export async function scoringRecord(read: ReadArtifact, options: ScoringPassOptions): Promise<ScoringRecord> {
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  const stats = options.statsArtifactIds === undefined || options.statsArtifactIds.length === 0 ? undefined : await mergedStats(read, options.statsArtifactIds);
  const model = await modelFromArtifact(await read(options.modelArtifactId));
  try {
    const graph = buildChannelGraph(model);
    const weights = groupWeights(model, graph, { includeBias: options.includeBias ?? false });
    const tables: [ScoreName, ScoreTable][] = [
      ['l2', l2Scores(weights)],
      ['l1', l1Scores(weights)],
      ['bn', batchNormScaleScores(weights)],
    ];
    if (stats !== undefined) tables.unshift(['proscore', proscoreFromStats(stats, weights, { lambda })], ['taylor', taylorScores(stats, weights)]);
    const groups: GroupScores[] = weights.groups.map(({ group }) => ({ id: group.id, layer: firstUnitLayer(group), scores: {} }));
    const byId = new Map(groups.map((entry) => [entry.id, entry]));
    for (const [name, table] of tables) {
      for (const row of table.rows) {
        const entry = byId.get(row.id);
        if (entry !== undefined) entry.scores[name] = finiteOrNull(row.score);
      }
    }
    return { modelArtifactId: options.modelArtifactId, ...(options.round === undefined ? {} : { round: options.round }), lambda, groups };
  } finally {
    model.dispose();
  }
}
