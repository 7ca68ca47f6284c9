import type { PruneActivities } from './activity-types';

/**
 * The activities with every compute call pinned to `fingerprint`: the executor dispatches them
 * only to workers whose kernel fingerprint is the run's, so that the whole run computes on one
 * numeric path (a pool mixing backends, thread counts or GPU and CPU kernels would otherwise
 * give different bytes depending on which worker took which call). Undefined: unpinned, as
 * runs recorded before fingerprints replay.
 */
export function pinnedToFingerprint(activities: PruneActivities, fingerprint: string | undefined): PruneActivities {
  if (fingerprint === undefined) return activities;
  const pin = { fingerprint };
  return {
    ...activities,
    computeGradStats: (input) => activities.computeGradStats({ ...input, ...pin }),
    scoreTrajectory: (input) => activities.scoreTrajectory({ ...input, ...pin }),
    batchNormStatistics: (input) => activities.batchNormStatistics({ ...input, ...pin }),
    fineTuneReplica: (input) => activities.fineTuneReplica({ ...input, ...pin }),
    evaluateShard: (input) => activities.evaluateShard({ ...input, ...pin }),
  };
}
