import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { WorkflowFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { artifactKeyOf } from '@ippro/artifact-store';
import { ArtifactClient } from '@ippro/protocol';
import type { protocol } from '@ippro/protocol';
import { WorkerClient } from '@ippro/compute';
import { datasetToArtifact, writeModelArtifactToDir } from '@ippro/model-artifact';
import { resolveDataset } from '@ippro/data';
import { RunIdTakenError, RunInputTooLargeError, startPrune } from '@ippro/orchestration';
import { CRITERION_NAMES } from '@ippro/workflow-core';
import type { PruneWorkflowInput } from '@ippro/workflow-core';
import { assertBadInput, runCli } from './testing/cli';
import { FaultStack } from './testing/fault-stack';
import { putInputs, resultOf, smallModelBytes, until } from './testing/fault-runs';
import { assertUnchanged, snapshot, untilListed } from './testing/snapshots';

/**
 * Bad input through every door: the `ippro` command, the artifact and worker gRPC services, and
 * the workflow input given straight to Temporal. Each case gets a clear error (CLI: exit code 2
 * and one line naming the problem; gRPC: the status code; workflow: a non-retryable failure
 * naming the field) and, checked after each case, nothing that existed changed: every file of
 * the artifact store, of the models and datasets, of an earlier run's output, and every run
 * Temporal knows.
 */
const DATA = 'synthetic:cifar?n=64&seed=31&classes=10';
const EVAL = 'synthetic:cifar?n=64&seed=32&classes=10';
const EXISTING_RUN = 'existing-run';

let stack: FaultStack;
let client: Client;
let inputs: string;
let modelDir: string;
let modelId: string;
let existingOut: string;
let artifacts: ArtifactClient;
let worker: WorkerClient;
/** Artifacts put before the cases: a model cut short, a model with a NaN weight, a dataset cut short. */
const broken: Record<'truncatedModel' | 'nanModel' | 'truncatedDataset' | 'jsonDocument', string> = {
  truncatedModel: '',
  nanModel: '',
  truncatedDataset: '',
  jsonDocument: '',
};

function remoteFlags(): string[] {
  return ['--temporal', stack.temporal.address, '--namespace', stack.temporal.namespace, '--task-queue', stack.taskQueue, '--artifacts', stack.artifactsAddress];
}

/** `ippro prune` against the stack, with `overrides` replacing (or adding) flags. */
function pruneArgs(out: string, overrides: Record<string, string> = {}): string[] {
  const flags: Record<string, string> = {
    '--model': modelDir,
    '--data': DATA,
    '--eval-data': EVAL,
    '--target-channels': '0.3',
    '--rounds': '1',
    '--finetune-steps': '2',
    '--batch-size': '16',
    '--eval-batch-size': '32',
    '--backend': 'wasm',
    '--out': out,
    ...overrides,
  };
  return ['prune', ...Object.entries(flags).flat(), ...remoteFlags()];
}

/** Bad model directories and dataset files, made before the cases (they are inputs, watched like the rest). */
const bad: Record<string, string> = {};

/** A copy of the good model directory with one thing broken. */
function brokenModel(name: string, breakIt: (dir: string) => void): string {
  const dir = join(inputs, 'models', name);
  cpSync(modelDir, dir, { recursive: true });
  breakIt(dir);
  return dir;
}

function editTopology(dir: string, edit: (text: string) => string): void {
  const file = join(dir, 'model.json');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

/** The gRPC status of a call that must fail. */
async function rejection(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (error) {
    const { code, details, message } = error as grpc.ServiceError;
    return { code, details: details ?? message };
  }
  throw new Error('the call succeeded; a refusal was expected');
}

/** The artifact service's own answer (the client library refuses bad keys before sending them). */
function rawGet(key: string): Promise<unknown> {
  return (async () => {
    for await (const chunk of artifacts.raw.Get({ key }) as AsyncIterable<unknown>) void chunk;
  })();
}

function rawStat(key: string): Promise<unknown> {
  return new Promise((resolve, reject) => artifacts.raw.Stat({ key }, (error, result) => (error ? reject(error) : resolve(result))));
}

function rawPut(key: string, data: Buffer): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = artifacts.raw.Put((error, result) => (error ? reject(error) : resolve(result)));
    call.write({ header: { key, size: data.length } });
    call.write({ data });
    call.end();
  });
}

function gradStatsRequest(overrides: Partial<protocol.ComputeGradStatsRequest> = {}): protocol.ComputeGradStatsRequest {
  return {
    jobId: 'bad-input',
    modelArtifactId: modelId,
    dataset: { spec: DATA, artifactId: '' },
    batches: { start: 0, end: 1 },
    batchSize: 16,
    groupIds: [],
    criterion: { batchNormMode: 'BATCH_NORM_MODE_INFERENCE', includeBias: false },
    ...overrides,
  };
}

function evaluateRequest(overrides: Partial<protocol.EvaluateRequest> = {}): protocol.EvaluateRequest {
  return { jobId: 'bad-input', modelArtifactId: modelId, dataset: { spec: EVAL, artifactId: '' }, batches: { start: 0, end: 1 }, batchSize: 32, ...overrides };
}

function workflowInput(overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId: modelId,
    criterion: 'proscore',
    scoring: { dataset: { spec: DATA }, batchSize: 16 },
    evaluation: { dataset: { spec: EVAL }, batchSize: 32 },
    plan: { target: { metric: 'channels', fraction: 0.3 }, rounds: 1 },
    seed: 1,
    ...overrides,
  };
}

/** Starts a run with `input` straight through Temporal and returns the message it failed with. */
async function workflowRefusal(runId: string, input: PruneWorkflowInput): Promise<string> {
  await startPrune(client, input, { workflowId: runId, taskQueue: stack.taskQueue });
  const error = await resultOf(client, runId).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof WorkflowFailedError, `run ${runId} did not fail: ${String(error)}`);
  await untilListed(client, runId);
  let cause: unknown = error;
  while ((cause as { cause?: unknown }).cause !== undefined) cause = (cause as { cause?: unknown }).cause;
  return (cause as Error).message;
}

interface BadInputCase {
  name: string;
  /** Runs that the case starts and that must end FAILED (workflow inputs refused by the workflow). */
  newFailedRuns?: number;
  check(out: string): Promise<void>;
}

const cliCases: BadInputCase[] = [
  { name: 'model.json cut short', check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--model': bad['cut'] as string })), /model\.json/) },
  { name: 'model.json without a topology', check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--model': bad['noTopology'] as string })), /model\.json|topology/i) },
  { name: 'weights.bin 4 bytes short', check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--model': bad['shortWeights'] as string })), /weights\.bin/) },
  { name: 'weights.bin with 4 bytes too many', check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--model': bad['longWeights'] as string })), /weights\.bin/) },
  { name: 'a NaN weight', check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--model': bad['nanWeight'] as string })), /non-finite|NaN/) },
  { name: 'an unsupported layer', check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--model': bad['fancy'] as string })), /FancyDense/) },
  {
    name: 'an empty dataset',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--data': `json:${bad['emptyData'] as string}` })), /--data: .*empty\.json.*non-empty/),
  },
  {
    name: 'a dataset file cut short',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--data': `json:${bad['cutData'] as string}` })), /--data: .*cut\.json is not valid JSON/),
  },
  {
    name: 'a sample range outside the dataset',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--data': `${DATA}[0:100]` })), /--data: .*outside/),
  },
  {
    name: 'a target outside (0, 1)',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--target-channels': '1.5' })), /--target-channels must be a fraction in \(0, 1\), got '1\.5'/),
  },
  {
    name: 'an accuracy budget outside [0, 1)',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--max-accuracy-drop': '-0.1' })), /--max-accuracy-drop must be a fraction in \[0, 1\)/),
  },
  {
    name: 'zero rounds',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--rounds': '0' })), /--rounds must be a positive integer, got '0'/),
  },
  {
    name: 'a run id that is taken',
    check: async (out) => void assertBadInput(runCli(pruneArgs(out, { '--run-id': EXISTING_RUN })), /--run-id: run id 'existing-run' is already taken by a COMPLETED run/),
  },
  {
    name: 'an --out directory that holds an earlier result',
    check: async () => void assertBadInput(runCli(pruneArgs(existingOut)), /--out .* is not empty/),
  },
  {
    name: 'status of a run that does not exist',
    check: async () => void assertBadInput(runCli(['status', 'no-such-run', ...remoteFlags()]), /no run 'no-such-run'/),
  },
  {
    name: 'cancel of a finished run',
    check: async () => void assertBadInput(runCli(['cancel', EXISTING_RUN, ...remoteFlags()]), /run 'existing-run' is not running \(COMPLETED\)/),
  },
];

const artifactCases: BadInputCase[] = [
  {
    name: 'Get with a path-like key',
    check: async () => {
      const refused = await rejection(rawGet('../../objects/00/etc-passwd'));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /is not a sha256 hex digest/);
    },
  },
  {
    name: 'Stat with a key in capitals',
    check: async () => {
      const refused = await rejection(rawStat(modelId.toUpperCase()));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /is not a sha256 hex digest/);
    },
  },
  {
    name: 'Get of an artifact that is not there',
    check: async () => {
      const absent = artifactKeyOf(Buffer.from('never stored'));
      const refused = await rejection(rawGet(absent));
      assert.equal(refused.code, grpc.status.NOT_FOUND);
      assert.match(refused.details, new RegExp(`artifact ${absent} not found`));
    },
  },
  {
    name: 'Put whose bytes do not hash to the declared key',
    check: async () => {
      const bytes = Buffer.from('some bytes');
      const refused = await rejection(artifacts.putArtifact(bytes, { key: artifactKeyOf(Buffer.from('other bytes')) }));
      assert.equal(refused.code, grpc.status.DATA_LOSS);
      assert.match(refused.details, /nothing stored/);
    },
  },
  {
    name: 'Put with more bytes than declared',
    check: async () => {
      const bytes = Buffer.from('twelve bytes');
      const refused = await rejection(artifacts.putArtifact([bytes], { key: artifactKeyOf(bytes), size: 5 }));
      assert.equal(refused.code, grpc.status.DATA_LOSS);
    },
  },
  {
    name: 'Put with a path-like header key',
    check: async () => {
      const refused = await rejection(rawPut('../store/objects/xx', Buffer.from('x')));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /Put header key "\.\.\/store\/objects\/xx" is not a sha256 hex digest/);
    },
  },
  {
    name: 'Put of a message above the size limit',
    check: async () => {
      // A client that sends one 5 MiB message, past the service's 4 MiB + 64 KiB limit.
      const careless = new ArtifactClient(stack.artifactsAddress, { maxMessageBytes: 64 * 1024 * 1024, chunkBytes: 5 * 1024 * 1024 });
      try {
        const refused = await rejection(careless.putArtifact(Buffer.alloc(5 * 1024 * 1024, 7)));
        assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
      } finally {
        careless.close();
      }
    },
  },
];

const workerCases: BadInputCase[] = [
  {
    name: 'ComputeGradStats with a path-like model id',
    check: async () => {
      const refused = await rejection(worker.computeGradStats(gradStatsRequest({ modelArtifactId: '../../etc/passwd' })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /model_artifact_id "\.\.\/\.\.\/etc\/passwd" is not an artifact id/);
    },
  },
  {
    name: 'ComputeGradStats on a model that is not in the store',
    check: async () => {
      const absent = artifactKeyOf(Buffer.from('no such model'));
      const refused = await rejection(worker.computeGradStats(gradStatsRequest({ modelArtifactId: absent })));
      assert.equal(refused.code, grpc.status.NOT_FOUND);
      assert.match(refused.details, new RegExp(absent));
    },
  },
  {
    name: 'ComputeGradStats with batches outside the dataset',
    check: async () => {
      const refused = await rejection(worker.computeGradStats(gradStatsRequest({ batches: { start: 2, end: 40 } })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /batches \[2, 40\) is outside dataset .* which has 4 batches of 16/);
    },
  },
  {
    name: 'ComputeGradStats with a group the model does not have',
    check: async () => {
      const refused = await rejection(worker.computeGradStats(gradStatsRequest({ groupIds: ['no_such_layer/out'] })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /group_ids\[0\] "no_such_layer\/out" is not a group of model/);
    },
  },
  {
    name: 'ComputeGradStats on a model artifact cut short',
    check: async () => {
      const refused = await rejection(worker.computeGradStats(gradStatsRequest({ modelArtifactId: broken.truncatedModel })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, new RegExp(`model_artifact_id ${broken.truncatedModel}`));
    },
  },
  {
    name: 'Evaluate on a model artifact with a NaN weight',
    check: async () => {
      const refused = await rejection(worker.evaluate(evaluateRequest({ modelArtifactId: broken.nanModel })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /non-finite|NaN/);
    },
  },
  {
    name: 'Evaluate on an artifact that is not a model (a JSON document)',
    check: async () => {
      const refused = await rejection(worker.evaluate(evaluateRequest({ modelArtifactId: broken.jsonDocument })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
    },
  },
  {
    name: 'Evaluate on a dataset artifact cut short',
    check: async () => {
      const refused = await rejection(worker.evaluate(evaluateRequest({ dataset: { spec: '', artifactId: broken.truncatedDataset } })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
    },
  },
  {
    name: 'Evaluate with a json: spec (a path) from the network',
    check: async () => {
      const refused = await rejection(worker.evaluate(evaluateRequest({ dataset: { spec: 'json:/etc/passwd', artifactId: '' } })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /json: specs name files and are refused from the network/);
    },
  },
  {
    name: 'Evaluate with a batch size above the worker limit',
    check: async () => {
      const refused = await rejection(worker.evaluate(evaluateRequest({ batchSize: 100_000 })));
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /batch_size 100000 is above this worker's limit/);
    },
  },
  {
    name: 'FineTune with a NaN learning rate',
    check: async () => {
      const refused = await rejection(
        worker.fineTune({
          jobId: 'bad-input',
          startModelArtifactId: modelId,
          dataset: { spec: DATA, artifactId: '' },
          replica: { index: 0, count: 1 },
          batchSize: 16,
          steps: 1,
          firstStep: 0,
          optimizer: { learningRate: Number.NaN, momentum: 0.9, nesterov: false, weightDecay: 0, labelSmoothing: 0 },
          seed: 1,
          augment: false,
        }),
      );
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /optimizer\.learning_rate must be a positive number, got NaN/);
    },
  },
  {
    name: 'FineTune with a replica outside its count',
    check: async () => {
      const refused = await rejection(
        worker.fineTune({
          jobId: 'bad-input',
          startModelArtifactId: modelId,
          dataset: { spec: DATA, artifactId: '' },
          replica: { index: 3, count: 2 },
          batchSize: 16,
          steps: 1,
          firstStep: 0,
          optimizer: { learningRate: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, labelSmoothing: 0 },
          seed: 1,
          augment: false,
        }),
      );
      assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
      assert.match(refused.details, /replica 3 of 2/);
    },
  },
  {
    name: 'a request message above the size limit',
    check: async () => {
      const careless = new WorkerClient(stack.workers[0]?.address as string, { maxMessageBytes: 64 * 1024 * 1024 });
      try {
        const refused = await rejection(careless.computeGradStats(gradStatsRequest({ groupIds: ['x'.repeat(5 * 1024 * 1024)] })));
        assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
      } finally {
        careless.close();
      }
    },
  },
];

const workflowCases: BadInputCase[] = [
  {
    name: 'a path-like model id',
    newFailedRuns: 1,
    check: async () => assert.match(await workflowRefusal('bad-model-id', workflowInput({ modelArtifactId: '../models/resnet/model.json' })), /modelArtifactId must be a sha256/),
  },
  {
    name: 'a model id that is not in the store',
    newFailedRuns: 1,
    check: async () => {
      const absent = artifactKeyOf(Buffer.from('a model nobody stored'));
      assert.match(await workflowRefusal('absent-model', workflowInput({ modelArtifactId: absent })), new RegExp(`the input model ${absent} is missing from the artifact store`));
    },
  },
  {
    name: 'a target fraction of 1.5',
    newFailedRuns: 1,
    check: async () =>
      assert.match(await workflowRefusal('bad-target', workflowInput({ plan: { target: { metric: 'channels', fraction: 1.5 }, rounds: 1 } })), /plan\.target\.fraction must be a fraction strictly between 0 and 1, got 1\.5/),
  },
  {
    name: 'an unknown target metric',
    newFailedRuns: 1,
    check: async () =>
      assert.match(
        await workflowRefusal('bad-metric', workflowInput({ plan: { target: { metric: 'latency' as 'flops', fraction: 0.5 }, rounds: 1 } })),
        /plan\.target\.metric must be one of params, flops, channels, got 'latency'/,
      ),
  },
  {
    name: 'a negative accuracy budget',
    newFailedRuns: 1,
    check: async () => assert.match(await workflowRefusal('bad-budget', workflowInput({ maxAccuracyDrop: -0.1 })), /maxAccuracyDrop must be a fraction in \[0, 1\)/),
  },
  {
    name: 'an unknown criterion',
    newFailedRuns: 1,
    check: async () => assert.match(await workflowRefusal('bad-criterion', workflowInput({ criterion: 'magic' as 'l1' })), new RegExp(`criterion must be one of ${CRITERION_NAMES.join(', ')}, got 'magic'`)),
  },
  {
    name: 'PROscore without scoring data',
    newFailedRuns: 1,
    check: async () => assert.match(await workflowRefusal('no-scoring', workflowInput({ scoring: undefined })), /criterion 'proscore' scores from gradients and needs scoring data/),
  },
  {
    name: 'a json: dataset (a path on the orchestrator)',
    newFailedRuns: 1,
    check: async () =>
      assert.match(await workflowRefusal('json-dataset', workflowInput({ evaluation: { dataset: { spec: 'json:/etc/passwd' }, batchSize: 32 } })), /evaluation\.dataset\.spec 'json:\/etc\/passwd' names a file/),
  },
  {
    name: 'zero batch shards',
    newFailedRuns: 1,
    check: async () => assert.match(await workflowRefusal('zero-shards', workflowInput({ shards: { batchShards: 0 } })), /shards\.batchShards must be a positive integer, got 0/),
  },
  {
    name: 'a NaN learning rate',
    newFailedRuns: 1,
    check: async () =>
      assert.match(
        await workflowRefusal('nan-lr', workflowInput({ fineTune: { dataset: { spec: DATA }, batchSize: 16, steps: 2, learningRate: Number.NaN } })),
        /fineTune\.learningRate must be a positive number/,
      ),
  },
  {
    name: 'a run id that is taken',
    check: async () => {
      await assert.rejects(startPrune(client, workflowInput(), { workflowId: EXISTING_RUN, taskQueue: stack.taskQueue }), (error: unknown) => {
        assert.ok(error instanceof RunIdTakenError);
        assert.match(error.message, /run id 'existing-run' is already taken by a COMPLETED run/);
        return true;
      });
    },
  },
  {
    name: 'an input above Temporal\'s payload limit',
    check: async () => {
      const huge = workflowInput({ plan: { target: { metric: 'channels', fraction: 0.3 }, rounds: 1, ignoredLayers: ['x'.repeat(3 * 1024 * 1024)] } });
      await assert.rejects(startPrune(client, huge, { workflowId: 'huge-input', taskQueue: stack.taskQueue }), (error: unknown) => {
        assert.ok(error instanceof RunInputTooLargeError);
        assert.match(error.message, /the run input is \d+ bytes of JSON \(plan: \d+ bytes the largest part\), above the 262144 bytes a run may carry/);
        return true;
      });
    },
  },
];

before(async () => {
  stack = await FaultStack.start({ name: 'bad-input', workers: 1 });
  client = await stack.client();
  inputs = join(stack.dir, 'inputs');
  mkdirSync(join(inputs, 'models'), { recursive: true });
  mkdirSync(join(inputs, 'datasets'), { recursive: true });
  modelDir = join(inputs, 'models', 'good');
  const modelBytes = await smallModelBytes(20);
  writeModelArtifactToDir(modelBytes, modelDir);
  [modelId] = (await putInputs(stack, [modelBytes])) as [string];

  bad['cut'] = brokenModel('cut', (dir) => editTopology(dir, (text) => text.slice(0, 120)));
  bad['noTopology'] = brokenModel('no-topology', (dir) => editTopology(dir, (text) => JSON.stringify({ ...(JSON.parse(text) as object), modelTopology: undefined })));
  bad['shortWeights'] = brokenModel('short-weights', (dir) => truncateSync(join(dir, 'weights.bin'), readFileSync(join(dir, 'weights.bin')).length - 4));
  bad['longWeights'] = brokenModel('long-weights', (dir) => appendFileSync(join(dir, 'weights.bin'), Buffer.alloc(4)));
  bad['nanWeight'] = brokenModel('nan-weight', (dir) => {
    const bytes = readFileSync(join(dir, 'weights.bin'));
    bytes.writeFloatLE(Number.NaN, 0);
    writeFileSync(join(dir, 'weights.bin'), bytes);
  });
  bad['fancy'] = brokenModel('fancy', (dir) => editTopology(dir, (text) => text.replace(/"class_name":\s*"Dense"/, '"class_name":"FancyDense"')));
  bad['emptyData'] = join(inputs, 'datasets', 'empty.json');
  writeFileSync(bad['emptyData'], JSON.stringify({ inputs: [], labels: [] }));
  bad['cutData'] = join(inputs, 'datasets', 'cut.json');
  writeFileSync(bad['cutData'], JSON.stringify({ inputs: [[[[0.5, 0.5, 0.5]]]], labels: [1] }).slice(0, 20));

  // An earlier run with its result: what the bad inputs must leave alone.
  existingOut = join(inputs, 'existing-out');
  const existing = runCli(pruneArgs(existingOut, { '--run-id': EXISTING_RUN }));
  assert.equal(existing.status, 0, existing.stderr);

  const nan = Buffer.from(modelBytes);
  nan.writeFloatLE(Number.NaN, nan.length - 4);
  const dataset = datasetToArtifact(resolveDataset(EVAL));
  const [truncatedModel, nanModel, truncatedDataset, jsonDocument] = await putInputs(stack, [
    modelBytes.subarray(0, modelBytes.length - 100),
    nan,
    dataset.subarray(0, dataset.length - 100),
    Buffer.from(JSON.stringify({ layerShards: [['conv1']] })),
  ]);
  Object.assign(broken, { truncatedModel, nanModel, truncatedDataset, jsonDocument });
  artifacts = new ArtifactClient(stack.artifactsAddress);
  worker = new WorkerClient(stack.workers[0]?.address as string);
});

after(async () => {
  artifacts?.close();
  worker?.close();
  await stack?.stop();
});

const surfaces: [string, BadInputCase[]][] = [
  ['the ippro command', cliCases],
  ['the artifact service', artifactCases],
  ['the worker service', workerCases],
  ['the workflow input', workflowCases],
];

for (const [surface, cases] of surfaces) {
  describe(`bad input to ${surface}`, () => {
    for (const badInput of cases) {
      it(`${badInput.name}: refused clearly, nothing changed`, async () => {
        const out = join(inputs, 'outs', badInput.name.replace(/\W+/g, '-'));
        const watched = [stack.store.root, inputs];
        const before = await snapshot(client, watched);
        await badInput.check(out);
        // A refused put removes its temporary file once the service has seen the refusal through.
        await until('the store to remove its temporary files', () => readdirSync(join(stack.store.root, 'tmp')).length === 0, 10_000);
        assert.equal(existsSync(out), false, '--out must not be created');
        assertUnchanged(before, await snapshot(client, watched), badInput.newFailedRuns ?? 0);
      });
    }
  });
}
