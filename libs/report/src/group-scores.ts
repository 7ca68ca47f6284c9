import { buildChannelGraph } from '@ippro/graph';
import type { ChannelGroup } from '@ippro/graph';
import { DEFAULT_LAMBDA, deserializeGradStats, groupWeights, mergeGradStatsInOrder } from '@ippro/importance';
import type { GradStats, ScoreTable } from '@ippro/importance';
import { modelFromArtifact } from '@ippro/model-artifact';
import { needsGradientStats, scoreByCriterion } from '@ippro/pruning';
import type { StatsReading } from '@ippro/pruning';
import { SCORE_NAMES } from './run-record';
import type { GroupScores, ReadArtifact, ScoreName, ScoringRecord } from './run-record';

export interface ScoringPassOptions {
  modelArtifactId: string;
  /** Per layer shard, the batch shards' statistics in merge order; absent: weights-only scores. */
  statsArtifactIds?: string[][];
  lambda?: number;
  /** PROscore's reading from statistics (the run's, when it read them; the trajectory is not recomputed here). */
  proscore?: StatsReading;
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
 * Every criterion's score of every prunable group of one scoring pass, recomputed from the pass's
 * own statistics artifacts (the gradient criteria only when it had some, and those needing
 * per-batch statistics only when its artifacts hold them). Random is left out: its scores are a
 * seeded hash, nothing about the model.
 */
export async function scoringRecord(read: ReadArtifact, options: ScoringPassOptions): Promise<ScoringRecord> {
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  const stats = options.statsArtifactIds === undefined || options.statsArtifactIds.length === 0 ? undefined : await mergedStats(read, options.statsArtifactIds);
  const model = await modelFromArtifact(await read(options.modelArtifactId));
  try {
    const graph = buildChannelGraph(model);
    const weights = groupWeights(model, graph, { includeBias: options.includeBias ?? false });
    const tables: [ScoreName, ScoreTable][] = [];
    const skipped: ScoreName[] = [];
    for (const name of SCORE_NAMES) {
      if (name === 'random') continue;
      if (needsGradientStats(name) && stats === undefined) {
        skipped.push(name);
        continue;
      }
      try {
        tables.push([name, scoreByCriterion(name, { weights, ...(stats === undefined ? {} : { stats }), lambda, ...(options.proscore === undefined ? {} : { proscoreReading: options.proscore }) })]);
      } catch (error) {
        // Statistics of format 1 hold no per-batch values; the criteria that need them say so.
        if (stats?.batches !== undefined) throw error;
        skipped.push(name);
      }
    }
    const groups: GroupScores[] = weights.groups.map(({ group }) => ({ id: group.id, layer: firstUnitLayer(group), scores: {} }));
    const byId = new Map(groups.map((entry) => [entry.id, entry]));
    for (const [name, table] of tables) {
      for (const row of table.rows) {
        const entry = byId.get(row.id);
        if (entry !== undefined) entry.scores[name] = finiteOrNull(row.score);
      }
    }
    return {
      modelArtifactId: options.modelArtifactId,
      ...(options.round === undefined ? {} : { round: options.round }),
      lambda,
      groups,
      ...(skipped.length === 0 ? {} : { skipped }),
    };
  } finally {
    model.dispose();
  }
}
