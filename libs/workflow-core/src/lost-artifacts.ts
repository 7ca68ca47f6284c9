import type { ArtifactRoleRef, PruneActivities } from './activity-types';
import type { DatasetRef, PruneCarry, PruneWorkflowInput } from './prune-types';

/** Activity failure types that mean an artifact is missing or corrupted (details[0].artifactId names it). */
export const LOST_ARTIFACT_FAILURES: readonly string[] = ['NotFound', 'DataLoss'];

/** How often one step (the baseline, a round) is computed again after losing an artifact it made. */
export const MAX_RECOMPUTATIONS = 2;

/**
 * The artifact a failure says is lost: walks the cause chain (the workflow sees an
 * ActivityFailure whose cause is the activity's ApplicationFailure) for a NotFound or DataLoss
 * failure whose first detail names an artifact.
 */
export function lostArtifactOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const { type, details, cause } = current as { type?: unknown; details?: unknown; cause?: unknown };
    if (typeof type === 'string' && LOST_ARTIFACT_FAILURES.includes(type) && Array.isArray(details)) {
      const named = (details[0] as { artifactId?: unknown } | undefined)?.artifactId;
      if (typeof named === 'string') return named;
    }
    current = cause;
  }
  return undefined;
}

/**
 * What a step starts from: the input model, the model and removed-group list the round starts
 * from, and the dataset artifacts. Everything else a step reads it made itself, so it can make it
 * again; these it cannot.
 */
export function stepInputs(input: PruneWorkflowInput, carry?: PruneCarry): ArtifactRoleRef[] {
  const refs: ArtifactRoleRef[] = [{ artifactId: input.modelArtifactId, role: 'the input model' }];
  const add = (artifactId: string | undefined, role: string): void => {
    if (artifactId !== undefined && artifactId !== '' && !refs.some((ref) => ref.artifactId === artifactId)) refs.push({ artifactId, role });
  };
  if (carry !== undefined) {
    add(carry.modelArtifactId, `the model round ${carry.round} starts from (the result of round ${carry.round - 1})`);
    add(carry.removedArtifactId, `the list of groups removed before round ${carry.round}`);
  }
  const datasets: [DatasetRef | undefined, string][] = [
    [input.scoring?.dataset, 'the scoring dataset'],
    [input.fineTune?.dataset, 'the fine-tuning dataset'],
    [input.recalibration?.dataset, 'the batch-norm recalibration dataset'],
    [input.evaluation.dataset, 'the evaluation dataset'],
  ];
  for (const [ref, role] of datasets) add(ref?.artifactId, role);
  return refs;
}

/**
 * Runs a step; when it fails because an artifact went missing or was found corrupted, checks the
 * step's inputs by hash and, if they are intact, runs the step again: every step is a
 * deterministic function of its inputs, so it makes the lost artifact again, byte for byte.
 * A lost input cannot be remade: checkArtifacts then fails naming it, and so does the run.
 */
export async function recomputingLostArtifacts<T>(
  step: string,
  inputs: ArtifactRoleRef[],
  activities: PruneActivities,
  note: ((line: string) => void) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  for (let recomputation = 1; ; recomputation += 1) {
    try {
      return await work();
    } catch (error) {
      const lost = lostArtifactOf(error);
      if (lost === undefined) throw error;
      await activities.checkArtifacts({ artifacts: inputs });
      if (recomputation > MAX_RECOMPUTATIONS) throw error;
      note?.(`${step}: artifact ${lost} was lost (missing or corrupted); the step's inputs are intact, so ${step} is computed again (${recomputation} of ${MAX_RECOMPUTATIONS})`);
    }
  }
}
