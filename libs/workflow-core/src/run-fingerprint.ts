import type { PoolFingerprintOutput, PruneActivities, RunNumericPath } from './activity-types';

/**
 * What a run computes on: the kernel fingerprint its compute calls are pinned to and, when the
 * pool's answer named it in full, the numeric path that fingerprint stands for. Empty for runs
 * recorded before fingerprints; `numericPath` is absent for runs whose recorded answer named the
 * fingerprint alone.
 */
export interface RunPin {
  fingerprint?: string;
  numericPath?: RunNumericPath;
}

/** The pin of the pool's answer (poolFingerprint): never a numeric path the answer does not name in full. */
export function pinOf(answer: PoolFingerprintOutput): RunPin {
  const { fingerprint, backend, threads, tfjs } = answer;
  if (backend === undefined || threads === undefined || tfjs === undefined || tfjs === '') return { fingerprint };
  return { fingerprint, numericPath: { fingerprint, backend, threads, tfjs } };
}

/** The numeric path as one line, e.g. `tensorflow, 1 intra-op thread, tfjs 4.22.0, kernel fingerprint 1f0c...` (all 16 digits). */
export function numericPathText(path: RunNumericPath): string {
  return `${path.backend}, ${path.threads} intra-op thread${path.threads === 1 ? '' : 's'}, tfjs ${path.tfjs}, kernel fingerprint ${path.fingerprint}`;
}

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
