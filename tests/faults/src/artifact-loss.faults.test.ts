import assert from 'node:assert/strict';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { pausePrune, pruneHandle, queryProgress, resumePrune } from '@ippro/orchestration';
import { resultWithoutTiming } from '@ippro/workflow-core';
import type { PruneWorkflowInput } from '@ippro/workflow-core';
import { artifactFile, damageWhenWritten, flipByte, plantCorruptedCopy, quarantined } from './testing/damage';
import { FaultStack } from './testing/fault-stack';
import { faultInput, finalModelBytes, putInputs, referenceRun, resultOf, smallModelBytes, startRun, until } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';

/**
 * Artifacts damaged on disk. Every read checks the sha256 that names an artifact, so a flipped
 * byte is found wherever the bytes are read; a damaged copy is moved aside, never used. What the
 * run made itself is made again (the step that lost it runs again: same inputs, same bytes);
 * a worker's damaged cache entry is fetched again; what the run was given (the input model, the
 * model a round starts from) cannot be remade, and the run fails with an error naming it.
 */
let stack: FaultStack;

before(async () => {
  stack = await FaultStack.start({ name: 'artifact-loss', workers: 2 });
});

after(async () => {
  await stack?.stop();
});

/** Every object in the store: id -> size (what a failed run must leave as it was, damaged files aside). */
function storeObjects(): string[] {
  const objects = join(stack.store.root, 'objects');
  return readdirSync(objects).flatMap((prefix) => readdirSync(join(objects, prefix))).sort();
}

/** The deepest message of a failed run (WorkflowFailedError -> ActivityFailure -> ApplicationFailure). */
async function failureOf(runId: string): Promise<string> {
  const error = await resultOf(await stack.client(), runId).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof WorkflowFailedError, `run ${runId} did not fail: ${String(error)}`);
  let cause: unknown = error;
  while ((cause as { cause?: unknown }).cause !== undefined) cause = (cause as { cause?: unknown }).cause;
  return (cause as Error).message;
}

describe('damaged artifacts', () => {
  it('intermediate artifacts flipped and deleted, and a damaged worker cache entry: recomputed or refetched; the same model', async () => {
    const modelBytes = await smallModelBytes(5);
    const [modelId] = await putInputs(stack, [modelBytes]);
    // One activity at a time: a shard's statistics wait on disk while the next shard runs.
    const input: PruneWorkflowInput = faultInput(modelId as string, { shards: { batchShards: 2, layerShards: 1, evaluationShards: 2, maxParallel: 1 } });
    const reference: ReferenceRun = await referenceRun(input, [modelBytes]);
    const roundOneStats = reference.outputs.get('r1/s0');
    const roundTwoStats = reference.outputs.get('r2/s0');
    assert.ok(roundOneStats !== undefined && roundTwoStats !== undefined);
    const caches = stack.workers.map((worker) => join(stack.dir, 'worker-cache', String(worker.index)));
    for (const cache of caches) plantCorruptedCopy(cache, modelId as string, modelBytes);

    const flipped = damageWhenWritten(stack.store.root, roundOneStats, 'flip');
    const deleted = damageWhenWritten(stack.store.root, roundTwoStats, 'delete');
    const started = Date.now();
    await startRun(stack, input, 'damaged-intermediates');
    try {
      const result = await resultOf(await stack.client(), 'damaged-intermediates');
      const elapsed = Date.now() - started;
      assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result));
      assert.ok((await finalModelBytes(stack, result)).equals(reference.modelBytes), 'the final model differs from the undisturbed run');

      const flippedAt = await flipped.done;
      const deletedAt = await deleted.done;
      assert.equal(quarantined(stack.store.root, roundOneStats).length, 1, 'the flipped statistics were moved aside');
      const recomputed = stack.orchestratorLines(/artifact [0-9a-f]{64} was lost .* computed again/);
      assert.ok(recomputed.some((line) => line.includes(`round 1: artifact ${roundOneStats}`)), `round 1 was not recomputed: ${recomputed.join('\n')}`);
      assert.ok(recomputed.some((line) => line.includes(`round 2: artifact ${roundTwoStats}`)), `round 2 was not recomputed: ${recomputed.join('\n')}`);
      const refetched = caches.filter((cache) => quarantined(cache, modelId as string).length === 1);
      assert.ok(refetched.length >= 1, 'a worker found its cached input model damaged and fetched it again');
      console.log(
        `damaged intermediates: round-1 statistics flipped ${flippedAt - started} ms and round-2 statistics deleted ${deletedAt - started} ms into the run; ` +
          `${recomputed.length} round(s) computed again; ${refetched.length} worker cache(s) refetched the input model; run ${elapsed} ms (undisturbed in-process ${reference.ms} ms)`,
      );
    } finally {
      flipped.cancel();
      deleted.cancel();
    }
  });

  it('the input model flipped on disk: the run fails naming it, and makes nothing', async () => {
    const modelBytes = await smallModelBytes(6);
    const [modelId] = await putInputs(stack, [modelBytes]);
    flipByte(artifactFile(stack.store.root, modelId as string));
    const before = storeObjects().filter((id) => id !== modelId);
    await startRun(stack, faultInput(modelId as string), 'damaged-input');
    const message = await failureOf('damaged-input');
    assert.match(message, new RegExp(`the input model ${modelId} was found corrupted .* moved to .*corrupt`));
    assert.match(message, /cannot be recomputed/);
    assert.deepEqual(storeObjects(), before, 'the store holds exactly what it held, less the damaged file');
    assert.equal(quarantined(stack.store.root, modelId as string).length, 1);
    console.log(`damaged input: ${message}`);
  });

  it('the input model deleted: the run fails naming it as missing', async () => {
    const modelBytes = await smallModelBytes(7);
    const [modelId] = await putInputs(stack, [modelBytes]);
    unlinkSync(artifactFile(stack.store.root, modelId as string));
    await startRun(stack, faultInput(modelId as string), 'deleted-input');
    const message = await failureOf('deleted-input');
    assert.match(message, new RegExp(`the input model ${modelId} is missing from the artifact store`));
  });

  it('the model a round starts from flipped while the run waits at the round boundary: the run fails naming it', async () => {
    const modelBytes = await smallModelBytes(8);
    const [modelId] = await putInputs(stack, [modelBytes]);
    const runId = 'damaged-carry';
    await startRun(stack, faultInput(modelId as string), runId);
    const handle = pruneHandle(await stack.client(), runId);
    await until('round 1', async () => (await queryProgress(handle).catch(() => undefined))?.round === 1);
    await pausePrune(handle);
    let carry = '';
    await until('the pause before round 2', async () => {
      const progress = await queryProgress(handle).catch(() => undefined);
      carry = progress?.currentModelArtifactId ?? '';
      return progress?.phase === 'paused' && progress.round === 2;
    });
    assert.ok(existsSync(artifactFile(stack.store.root, carry)));
    flipByte(artifactFile(stack.store.root, carry));
    await resumePrune(handle);
    const message = await failureOf(runId);
    assert.match(message, new RegExp(`the model round 2 starts from \\(the result of round 1\\) ${carry} was found corrupted`));
    console.log(`damaged round input: ${message}`);
  });
});
