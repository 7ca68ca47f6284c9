import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { InProcessExecutor, runPruneInProcess } from '@ippro/activities';
import type { ComputeExecutor } from '@ippro/activities';
import { ArtifactStore, artifactKeyOf } from '@ippro/artifact-store';
import { modelToArtifact } from '@ippro/model-artifact';
import { buildSmallCnn } from '@ippro/models';
import { startPrune } from '@ippro/orchestration';
import { initRuntime } from '@ippro/runtime';
import type { PruneProgress, PruneWorkflowInput, PruneWorkflowResult } from '@ippro/workflow-core';
import { progressQuery } from '@ippro/workflows';
import type { pruneModel } from '@ippro/workflows';
import { BACKEND } from './fault-stack';
import type { FaultStack } from './fault-stack';

/** Synthetic CIFAR-shaped data: big enough that a scoring shard or a fine-tuning call lasts a second or more. */
export const SCORING_SPEC = 'synthetic:cifar?n=1024&seed=11&classes=10';
export const TUNING_SPEC = 'synthetic:cifar?n=512&seed=12&classes=10';
export const EVALUATION_SPEC = 'synthetic:cifar?n=512&seed=13&classes=10';

let runtimeReady: Promise<unknown> | undefined;

/** This process's tfjs backend: the workers' (models built or run here must match theirs bit for bit). */
export function localRuntime(): Promise<unknown> {
  runtimeReady ??= initRuntime({ backend: BACKEND, report: () => undefined });
  return runtimeReady;
}

/** A small CNN (two stages of 8 and 16 filters) as model artifact bytes. */
export async function smallModelBytes(seed = 1): Promise<Buffer> {
  await localRuntime();
  const model = buildSmallCnn({ widths: [8, 16], numClasses: 10, seed });
  try {
    return modelToArtifact(model);
  } finally {
    model.dispose();
  }
}

/**
 * Two rounds of PROscore with every fan-out: 2 scoring shards, 2 fine-tuning replicas of 24 SGD
 * steps, 2 evaluation shards, at most 2 activities in flight (one per worker).
 */
export function faultInput(modelArtifactId: string, overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId,
    criterion: 'proscore',
    lambda: 1,
    scoring: { dataset: { spec: SCORING_SPEC }, batchSize: 16 },
    fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 16, steps: 24, repetitions: 1, replicas: 2, learningRate: 0.05 },
    evaluation: { dataset: { spec: EVALUATION_SPEC }, batchSize: 32 },
    plan: { target: { metric: 'channels', fraction: 0.3 }, rounds: 2 },
    shards: { batchShards: 2, layerShards: 1, evaluationShards: 2, maxParallel: 2 },
    seed: 7,
    ...overrides,
  };
}

export interface ReferenceRun {
  result: PruneWorkflowResult;
  modelBytes: Buffer;
  ms: number;
  /** The artifact each compute call made, by job id without the run prefix (`r1/s0`, `r1/m0/replica1`). */
  outputs: Map<string, string>;
  /** How long each compute call took here, by the same job ids. */
  durations: Map<string, number>;
}

/** The job id without the run's prefix: `r1/s0`, `r1/m0/replica1`. */
export function jobInRun(jobId: string): string {
  return jobId.slice(jobId.indexOf('/') + 1);
}

/** An InProcessExecutor that notes the artifact each call makes and how long it takes. */
function recordingExecutor(store: ArtifactStore, outputs: Map<string, string>, durations: Map<string, number>): ComputeExecutor {
  const executor = new InProcessExecutor({ store });
  const timed = async <T>(jobId: string, call: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await call();
    durations.set(jobInRun(jobId), Date.now() - started);
    return result;
  };
  return {
    async computeGradStats(call, options) {
      const result = await timed(call.jobId, () => executor.computeGradStats(call, options));
      outputs.set(jobInRun(call.jobId), result.statsArtifactId);
      return result;
    },
    async fineTune(call, options) {
      const result = await timed(call.jobId, () => executor.fineTune(call, options));
      outputs.set(jobInRun(call.jobId), result.modelArtifactId);
      return result;
    },
    evaluate: (call, options) => timed(call.jobId, () => executor.evaluate(call, options)),
    async computeBatchNormStatistics(call, options) {
      const result = await timed(call.jobId, () => executor.computeBatchNormStatistics(call, options));
      outputs.set(jobInRun(call.jobId), result.statsArtifactId);
      return result;
    },
    async computeTrajectoryScores(call, options) {
      const result = await timed(call.jobId, () => executor.computeTrajectoryScores(call, options));
      outputs.set(jobInRun(call.jobId), result.scoresArtifactId);
      return result;
    },
    poolFingerprint: () => executor.poolFingerprint(),
  };
}

/**
 * How long after a call starts to hit it so that it is in its middle: 40% of what the same call
 * took in the reference run on this machine (at least 50 ms), whatever the machine's speed.
 */
export function midCallDelay(reference: ReferenceRun, jobId: string): number {
  const took = reference.durations.get(jobInRun(jobId));
  if (took === undefined) throw new Error(`the reference run has no call ${jobInRun(jobId)}`);
  return Math.max(50, Math.round(0.4 * took));
}

/**
 * The undisturbed run of a configuration: the same activities and round logic in this process,
 * on a store of its own, with the backend the workers use. The README's guarantee (the same run
 * distributed or --local ends with the byte-identical model) makes it the reference.
 */
export async function referenceRun(input: PruneWorkflowInput, inputArtifacts: readonly Uint8Array[]): Promise<ReferenceRun> {
  await localRuntime();
  const root = mkdtempSync(join(tmpdir(), 'ippro-faults-reference-'));
  // Also when the runner stops this file mid-run (the exit handlers run; `finally` does not).
  const removeRoot = (): void => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  try {
    const store = await ArtifactStore.open({ root, fsync: false });
    for (const bytes of inputArtifacts) await store.put(bytes);
    const started = Date.now();
    const outputs = new Map<string, string>();
    const durations = new Map<string, number>();
    const result = await runPruneInProcess(input, { store, runId: 'reference', executor: recordingExecutor(store, outputs, durations) });
    return { result, modelBytes: await store.get(result.modelArtifactId), ms: Date.now() - started, outputs, durations };
  } finally {
    process.removeListener('exit', removeRoot);
    removeRoot();
  }
}

/** Puts input artifacts into the stack's store (where the artifact service serves them from); returns their ids. */
export async function putInputs(stack: FaultStack, artifacts: readonly Uint8Array[]): Promise<string[]> {
  const ids: string[] = [];
  for (const bytes of artifacts) ids.push((await stack.store.put(bytes)).key);
  return ids;
}

export type PruneRunHandle = WorkflowHandle<typeof pruneModel>;

export async function startRun(stack: FaultStack, input: PruneWorkflowInput, runId: string): Promise<PruneRunHandle> {
  return startPrune(await stack.client(), input, { workflowId: runId, taskQueue: stack.taskQueue });
}

/** The progress query, or undefined while it cannot be answered (no orchestrator, server restarting). */
export async function progressOf(handle: PruneRunHandle): Promise<PruneProgress | undefined> {
  return handle.query(progressQuery).catch(() => undefined);
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The run's result, waiting through connection failures (a Temporal server being restarted):
 * only the workflow's own failure is thrown.
 */
export async function resultOf(client: Client, runId: string, timeoutMs = 300_000): Promise<PruneWorkflowResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await client.workflow.getHandle<typeof pruneModel>(runId).result();
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'WorkflowFailedError' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The final model's bytes from the stack's store, verified against its id. */
export async function finalModelBytes(stack: FaultStack, result: PruneWorkflowResult): Promise<Buffer> {
  const bytes = await stack.store.get(result.modelArtifactId);
  if (artifactKeyOf(bytes) !== result.modelArtifactId) throw new Error('the store returned bytes that do not hash to the id');
  return bytes;
}
