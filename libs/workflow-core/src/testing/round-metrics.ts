import type { RoundMetrics } from '../prune-types';
import type { RoundTiming } from '../run-timing';

/** A round's metrics for tests: the model id repeats the round's digit; `timing` as given. */
export function roundMetrics(round: number, timing?: RoundTiming): RoundMetrics {
  return {
    round,
    modelArtifactId: String(round).repeat(64),
    params: 1,
    flops: 1,
    channels: 1,
    top1: 0.5,
    loss: 1,
    evaluated: 8,
    removedGroups: round,
    removedTotal: round,
    ...(timing === undefined ? {} : { timing }),
  };
}
