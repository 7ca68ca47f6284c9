import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { resultWithoutTiming } from '@ippro/workflow-core';
import type { CriterionName, PruneWorkflowInput } from '@ippro/workflow-core';
import { FaultStack } from './testing/fault-stack';
import { faultInput, finalModelBytes, putInputs, referenceRun, resultOf, smallModelBytes, startRun } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';

/**
 * Load: six runs at once on two single-slot workers. Every run finishes with the model its solo,
 * undisturbed run makes, byte for byte (calls wait for a free slot; nothing is shared between
 * runs but content-addressed artifacts), and the workers' peak resident memory stays bounded.
 */
const RUNS = 6;
/** Peak RSS allowed per worker: wasm, the runtime and a few small models, with room to spare. */
const WORKER_PEAK_RSS_BOUND = 512 * 1024 * 1024;
const CRITERIA: CriterionName[] = ['proscore', 'taylor', 'l1', 'l2', 'random', 'proscore'];

let stack: FaultStack;
const models: Buffer[] = [];
const inputs: PruneWorkflowInput[] = [];
const references: ReferenceRun[] = [];

/** One round, lighter data: six of them fit in well under a minute on two workers. */
function loadInput(modelId: string, index: number): PruneWorkflowInput {
  return faultInput(modelId, {
    criterion: CRITERIA[index] as CriterionName,
    scoring: { dataset: { spec: 'synthetic:cifar?n=256&seed=21&classes=10' }, batchSize: 16 },
    fineTune: { dataset: { spec: 'synthetic:cifar?n=256&seed=22&classes=10' }, batchSize: 16, steps: 8, replicas: 2, learningRate: 0.05 },
    evaluation: { dataset: { spec: 'synthetic:cifar?n=256&seed=23&classes=10' }, batchSize: 64 },
    plan: { target: { metric: index % 2 === 0 ? 'channels' : 'params', fraction: 0.2 + 0.05 * index }, rounds: 1 },
    seed: 100 + index,
  });
}

before(async () => {
  stack = await FaultStack.start({ name: 'load', workers: 2 });
  for (let index = 0; index < RUNS; index += 1) {
    const bytes = await smallModelBytes(10 + index);
    const [modelId] = await putInputs(stack, [bytes]);
    models.push(bytes);
    inputs.push(loadInput(modelId as string, index));
  }
  for (let index = 0; index < RUNS; index += 1) references.push(await referenceRun(inputs[index] as PruneWorkflowInput, [models[index] as Buffer]));
});

after(async () => {
  await stack?.stop();
});

test(`${RUNS} concurrent runs on 2 workers: each ends with its solo run's model; worker memory stays bounded`, async () => {
  const started = Date.now();
  const runIds = inputs.map((_, index) => `load-${index}`);
  await Promise.all(inputs.map((input, index) => startRun(stack, input, runIds[index] as string)));
  const client = await stack.client();
  const finished: number[] = [];
  const results = await Promise.all(
    runIds.map(async (runId) => {
      const result = await resultOf(client, runId);
      finished.push(Date.now() - started);
      return result;
    }),
  );
  const elapsed = Date.now() - started;

  for (let index = 0; index < RUNS; index += 1) {
    const result = results[index];
    const reference = references[index] as ReferenceRun;
    assert.ok(result !== undefined);
    assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result), `run ${index} differs from its solo run`);
    assert.ok((await finalModelBytes(stack, result)).equals(reference.modelBytes), `run ${index}: the model differs from its solo run`);
  }
  assert.equal(new Set(results.map((result) => result.modelArtifactId)).size, RUNS, 'six different models');

  const peaks = stack.workers.map((worker) => worker.process.peakRssBytes());
  const orchestratorPeak = stack.orchestrator?.peakRssBytes() ?? 0;
  const calls = stack.workers.map((worker) => worker.process.linesMatching(/: done in \d+ ms$/).length);
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  console.log(
    `load: ${RUNS} runs at once finished after ${finished.sort((a, b) => a - b).map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}; ` +
      `solo in-process runs took ${references.map((reference) => `${(reference.ms / 1000).toFixed(1)} s`).join(', ')}; ` +
      `calls per worker ${calls.join(' / ')}; peak RSS workers ${peaks.map(mib).join(' / ')}, orchestrator ${mib(orchestratorPeak)}; total ${elapsed} ms`,
  );
  for (const peak of peaks) assert.ok(peak < WORKER_PEAK_RSS_BOUND, `a worker peaked at ${mib(peak)}, above ${mib(WORKER_PEAK_RSS_BOUND)}`);
});
