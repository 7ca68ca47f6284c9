import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactCheckInput, PruneActivities } from './activity-types';
import { MAX_RECOMPUTATIONS, lostArtifactOf, recomputingLostArtifacts, stepInputs } from './lost-artifacts';
import type { PruneCarry, PruneWorkflowInput } from './prune-types';

const MODEL = 'a'.repeat(64);
const LOST = 'd'.repeat(64);

/** An activity failure as the workflow sees it: ActivityFailure -> ApplicationFailure. */
function activityFailure(type: string, details?: unknown[]): Error {
  const application = Object.assign(new Error(`artifact ${LOST} not found`), { type, details });
  return Object.assign(new Error('Activity task failed'), { cause: application });
}

function input(): PruneWorkflowInput {
  return {
    modelArtifactId: MODEL,
    criterion: 'l1',
    fineTune: { dataset: { spec: '', artifactId: 'e'.repeat(64) }, batchSize: 8, steps: 1, learningRate: 0.1 },
    evaluation: { dataset: { spec: '', artifactId: 'e'.repeat(64) }, batchSize: 8 },
    plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 3 },
    seed: 1,
  };
}

/** Activities of which only checkArtifacts is used: it fails when one of `lost` is asked for. */
function checker(lost: readonly string[] = []): { activities: PruneActivities; checks: ArtifactCheckInput[] } {
  const checks: ArtifactCheckInput[] = [];
  const activities = {
    checkArtifacts: async (request: ArtifactCheckInput) => {
      checks.push(request);
      const missing = request.artifacts.find((ref) => lost.includes(ref.artifactId));
      if (missing !== undefined) throw new Error(`${missing.role} ${missing.artifactId} is missing`);
      return { checked: request.artifacts.length };
    },
  } as unknown as PruneActivities;
  return { activities, checks };
}

describe('lostArtifactOf', () => {
  it('finds the artifact a NotFound or DataLoss failure names, through the cause chain', () => {
    assert.equal(lostArtifactOf(activityFailure('NotFound', [{ artifactId: LOST }])), LOST);
    assert.equal(lostArtifactOf(activityFailure('DataLoss', [{ artifactId: LOST }])), LOST);
  });

  it('ignores other failures and failures that name no artifact', () => {
    assert.equal(lostArtifactOf(activityFailure('InvalidArgument', [{ artifactId: LOST }])), undefined);
    assert.equal(lostArtifactOf(activityFailure('NotFound')), undefined);
    assert.equal(lostArtifactOf(new Error('plain')), undefined);
    assert.equal(lostArtifactOf(undefined), undefined);
  });
});

describe('stepInputs', () => {
  it('lists the input model, the round start and the dataset artifacts once each', () => {
    const carry: PruneCarry = { round: 2, modelArtifactId: 'b'.repeat(64), removedArtifactId: 'c'.repeat(64), removedTotal: 3, baseline: {} as PruneCarry['baseline'], history: [], paused: false, cancelRequested: false };
    assert.deepEqual(
      stepInputs(input(), carry).map((ref) => [ref.artifactId[0], ref.role]),
      [
        ['a', 'the input model'],
        ['b', 'the model round 2 starts from (the result of round 1)'],
        ['c', 'the list of groups removed before round 2'],
        ['e', 'the fine-tuning dataset'],
      ],
    );
    assert.deepEqual(stepInputs({ ...input(), fineTune: undefined, evaluation: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8 } }).length, 1);
  });
});

describe('recomputingLostArtifacts', () => {
  it('runs the step again when it lost an artifact it made and its inputs are intact', async () => {
    const { activities, checks } = checker();
    const notes: string[] = [];
    let attempts = 0;
    const result = await recomputingLostArtifacts('round 1', stepInputs(input()), activities, (line) => notes.push(line), async () => {
      attempts += 1;
      if (attempts === 1) throw activityFailure('DataLoss', [{ artifactId: LOST }]);
      return 'made again';
    });
    assert.equal(result, 'made again');
    assert.equal(attempts, 2);
    assert.equal(checks.length, 1);
    assert.match(notes[0] ?? '', new RegExp(`round 1: artifact ${LOST} was lost .* round 1 is computed again \\(1 of ${MAX_RECOMPUTATIONS}\\)`));
  });

  it('fails naming a lost input instead of running the step again', async () => {
    const { activities } = checker([MODEL]);
    let attempts = 0;
    await assert.rejects(
      recomputingLostArtifacts('round 1', stepInputs(input()), activities, undefined, async () => {
        attempts += 1;
        throw activityFailure('NotFound', [{ artifactId: MODEL }]);
      }),
      new RegExp(`the input model ${MODEL} is missing`),
    );
    assert.equal(attempts, 1);
  });

  it('gives up after MAX_RECOMPUTATIONS with the step\'s own failure', async () => {
    const { activities } = checker();
    let attempts = 0;
    await assert.rejects(
      recomputingLostArtifacts('round 1', stepInputs(input()), activities, undefined, async () => {
        attempts += 1;
        throw activityFailure('DataLoss', [{ artifactId: LOST }]);
      }),
      /Activity task failed/,
    );
    assert.equal(attempts, MAX_RECOMPUTATIONS + 1);
  });

  it('passes other failures through untouched', async () => {
    const { activities, checks } = checker();
    await assert.rejects(
      recomputingLostArtifacts('round 1', [], activities, undefined, async () => {
        throw activityFailure('InvalidArgument', [{ artifactId: LOST }]);
      }),
      /Activity task failed/,
    );
    assert.equal(checks.length, 0);
  });
});
