import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { ArtifactStore, artifactKeyOf } from '@ippro/artifact-store';
import { WorkerClient } from '@ippro/compute';
import { DataError, resolveDataset, parseDatasetSpec } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { ModelTooLargeError, buildChannelGraph, checkModelSize, loadLayersModelFromDir, setModelLimits } from '@ippro/graph';
import type { ModelLimits } from '@ippro/graph';
import {
  ArtifactFormatError,
  datasetFromArtifact,
  datasetToArtifact,
  modelFromArtifact,
  packModelArtifact,
  unpackModelArtifact,
  writeModelArtifactToDir,
} from '@ippro/model-artifact';
import type { ModelArtifactParts } from '@ippro/model-artifact';
import { loadProtocol, startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer, protocol } from '@ippro/protocol';
import { BACKEND, WORKER_MAIN } from './testing/fault-stack';
import { smallModelBytes } from './testing/fault-runs';
import { OwnedProcess } from './testing/owned-process';

/**
 * Fuzzing of every door a model, a dataset or a request comes in by: model.json (its layer
 * configs), weights manifests, the artifact envelopes, dataset specs, and each request message of
 * the worker service, sent over real gRPC on loopback to a real worker process. Each case must end
 * in success or a clear error of the documented kind (a named error class, or a gRPC status other
 * than INTERNAL or UNKNOWN with details saying what is wrong); after each worker target the worker
 * still answers a health check and a small real call.
 *
 * Every target has its own fixed seed, so a run is reproducible; IPPRO_FUZZ_SEED shifts all of
 * them (target i then runs with IPPRO_FUZZ_SEED + i) and IPPRO_FUZZ_RUNS sets the cases per target.
 * A failure prints the seed and the path fast-check needs to replay the shrunk case.
 */
const RUNS = Number(process.env['IPPRO_FUZZ_RUNS'] ?? 1000);
const SEED_BASE = process.env['IPPRO_FUZZ_SEED'];
const TARGET_SEEDS = {
  modelJson: 1901,
  weightsManifest: 1902,
  modelEnvelope: 1903,
  datasetEnvelope: 1904,
  datasetSpec: 1905,
  getCapabilities: 1906,
  computeGradStats: 1907,
  fineTune: 1908,
  evaluate: 1909,
} as const;
type Target = keyof typeof TARGET_SEEDS;

function seedOf(target: Target): number {
  if (SEED_BASE === undefined) return TARGET_SEEDS[target];
  return Number(SEED_BASE) + Object.keys(TARGET_SEEDS).indexOf(target);
}

function parameters(target: Target): fc.Parameters<unknown> {
  return { seed: seedOf(target), numRuns: RUNS, endOnFailure: true };
}

/** How a target's cases ended: a target whose cases all succeed, or all fail, tests one side only. */
class Outcomes {
  accepted = 0;
  refused = 0;

  assertBothSeen(target: Target): void {
    assert.ok(this.accepted > 0 && this.refused > 0, `${target}: ${this.accepted} cases accepted, ${this.refused} refused; the cases must reach both`);
  }
}

/** Small limits, so that a case the estimate lets through is cheap to build. */
const LIMITS: ModelLimits = { maxParams: 5e6, maxActivationBytes: 256 * 1024 ** 2 };
const DATA = 'synthetic:cifar?n=64&seed=31&classes=10';

let scratch: string;
let base: ModelArtifactParts;
let modelBytes: Buffer;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function clone<T>(value: T): T {
  return structuredClone(value);
}

// ---- values --------------------------------------------------------------------------------

/** Sizes in and far outside any valid range: huge, negative, fractional, non-finite. */
const sizeValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -4, max: 64 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 2 ** 30, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e308, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY) },
  { weight: 1, arbitrary: fc.double() },
);

/** Anything JSON may hold in a field, wrong types included. */
const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: sizeValue },
  { weight: 2, arbitrary: fc.array(sizeValue, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(sizeValue, fc.constant(null)), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 'same', 'valid', 'channels_first', 'relu', 'Dense', 'Conv2D') },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), sizeValue, { maxKeys: 3 }) },
);

/** Every [parent, key] of a JSON tree, the root's children first. */
function slots(root: Json): [Record<string, Json> | Json[], string | number][] {
  const found: [Record<string, Json> | Json[], string | number][] = [];
  const visit = (node: Json): void => {
    if (Array.isArray(node)) {
      node.forEach((child, index) => {
        found.push([node, index]);
        visit(child);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        found.push([node, key]);
        visit(node[key] as Json);
      }
    }
  };
  visit(root);
  return found;
}

/** A mutation of a JSON tree: one slot (picked by `at`, modulo the slot count) replaced, deleted, or given a new key. */
const treeMutation = fc.record({ at: fc.nat(), action: fc.constantFrom('replace', 'delete', 'add'), key: fc.string({ maxLength: 10 }), value: wildValue });
type TreeMutation = typeof treeMutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(root: Json, mutation: TreeMutation): void {
  const all = slots(root);
  if (all.length === 0) return;
  const [parent, key] = all[mutation.at % all.length] as [Record<string, Json> | Json[], string | number];
  if (mutation.action === 'replace') (parent as Record<string, unknown>)[key] = mutation.value;
  else if (mutation.action === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    const target = parent[key as never] as Json;
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[mutation.key] = mutation.value;
  }
}

/** The config keys that size a layer: where a huge or wrong value does most harm. */
const SIZING_KEYS = ['units', 'filters', 'kernel_size', 'strides', 'dilation_rate', 'pool_size', 'depth_multiplier', 'batch_input_shape', 'target_shape', 'dims', 'axis', 'padding', 'use_bias', 'data_format', 'rate', 'size'];
const layerEdit = fc.record({ layer: fc.nat(), key: fc.constantFrom(...SIZING_KEYS), value: wildValue });

function layersOf(topology: Json): Record<string, Json>[] {
  const config = (topology as { config?: { layers?: unknown } }).config;
  return Array.isArray(config?.layers) ? (config.layers as Record<string, Json>[]) : [];
}

/** The error a model check may throw: too large, or a format error naming the problem. */
function assertModelRefusal(error: unknown, classes: readonly (new (...args: never[]) => Error)[]): void {
  assert.ok(classes.some((kind) => error instanceof kind), `expected ${classes.map((kind) => kind.name).join(' or ')}, got ${String((error as Error)?.stack ?? error)}`);
  assert.ok((error as Error).message.length > 0);
}

// ---- model.json ----------------------------------------------------------------------------

describe('fuzzing model.json, weights manifests and artifact envelopes', () => {
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'ippro-fuzz-'));
    modelBytes = await smallModelBytes(20);
    base = unpackModelArtifact(modelBytes);
    setModelLimits(LIMITS);
  });

  it(`model.json: mutated layer configs and topology end in a size refusal, a format error or a model (${RUNS} cases)`, async () => {
    const topologyCase = fc.record({
      edits: fc.array(layerEdit, { minLength: 0, maxLength: 3 }),
      mutations: fc.array(treeMutation, { minLength: 0, maxLength: 2 }),
      // Building is the expensive part: only some cases that pass the estimate are built.
      build: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    });
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(topologyCase, async ({ edits, mutations, build }) => {
        const topology = clone(base.modelJson.modelTopology) as unknown as Json;
        const layers = layersOf(topology);
        for (const edit of edits) {
          const layer = layers[edit.layer % Math.max(layers.length, 1)];
          const config = layer?.['config'];
          if (config !== null && typeof config === 'object' && !Array.isArray(config)) (config as Record<string, unknown>)[edit.key] = edit.value;
        }
        for (const mutation of mutations) mutate(topology, mutation);
        const specs = base.modelJson.weightsManifest[0]?.weights ?? [];
        try {
          checkModelSize(topology, specs, 'fuzzed model.json', LIMITS);
        } catch (error) {
          assertModelRefusal(error, [ModelTooLargeError]);
          outcomes.refused += 1;
          return;
        }
        if (!build) return;
        const bytes = packModelArtifact({ modelJson: { ...base.modelJson, modelTopology: topology as never }, weights: base.weights });
        try {
          (await modelFromArtifact(bytes)).dispose();
          outcomes.accepted += 1;
        } catch (error) {
          assertModelRefusal(error, [ArtifactFormatError]);
          outcomes.refused += 1;
        }
      }),
      parameters('modelJson'),
    );
    outcomes.assertBothSeen('modelJson');
  });

  it(`weights manifests: paths, sizes and dtypes; a path out of the model directory never loads (${RUNS} cases)`, async () => {
    const dir = join(scratch, 'manifest-model');
    writeModelArtifactToDir(modelBytes, dir);
    writeFileSync(join(scratch, 'outside.bin'), base.weights);
    symlinkSync(join(scratch, 'outside.bin'), join(dir, 'outside-link.bin'));
    mkdirSync(join(dir, 'sub'));
    const escaping = new Set(['../outside.bin', '/etc/passwd', `${scratch}/outside.bin`, 'outside-link.bin', '..', 'sub/../../outside.bin']);
    const path = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('weights.bin', './weights.bin', 'sub/../weights.bin', 'missing.bin', '', '.', 'sub', 'weights.bin/..', ...escaping) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    );
    const weightEdit = fc.record({
      index: fc.nat(),
      field: fc.constantFrom('shape', 'dtype', 'name', 'quantization', 'drop', 'duplicate'),
      shape: fc.array(sizeValue, { maxLength: 4 }),
      dtype: fc.oneof(fc.constantFrom('float32', 'int32', 'bool', 'complex64', 'string', 'uint8', 'float16', 'int8'), fc.string({ maxLength: 6 })),
      name: fc.string({ maxLength: 10 }),
    });
    const manifestCase = fc.record({
      paths: fc.array(path, { minLength: 0, maxLength: 3 }),
      keepPaths: fc.boolean(),
      edits: fc.array(weightEdit, { maxLength: 3 }),
      mutations: fc.array(treeMutation, { maxLength: 1 }),
    });
    const specs = base.modelJson.weightsManifest[0]?.weights ?? [];
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(manifestCase, async ({ paths, keepPaths, edits, mutations }) => {
        const weights = clone(specs) as unknown as Record<string, unknown>[];
        for (const edit of edits) {
          const index = edit.index % Math.max(weights.length, 1);
          if (edit.field === 'drop') weights.splice(index, 1);
          else if (edit.field === 'duplicate' && weights[index] !== undefined) weights.push(clone(weights[index]));
          else if (weights[index] !== undefined) {
            const spec = weights[index];
            if (edit.field === 'shape') spec['shape'] = edit.shape;
            else if (edit.field === 'dtype') spec['dtype'] = edit.dtype;
            else if (edit.field === 'name') spec['name'] = edit.name;
            else spec['quantization'] = { dtype: edit.dtype, scale: 1, min: 0 };
          }
        }
        const manifest = [{ paths: keepPaths ? ['weights.bin'] : paths, weights }] as unknown as Json;
        for (const mutation of mutations) mutate(manifest, mutation);
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...base.modelJson, weightsManifest: manifest }));
        const listed = JSON.stringify(manifest);
        try {
          (await loadLayersModelFromDir(dir)).dispose();
          for (const outside of escaping) assert.ok(!listed.includes(JSON.stringify(outside)), `a manifest listing ${outside} loaded`);
          outcomes.accepted += 1;
        } catch (error) {
          outcomes.refused += 1;
          if (error instanceof ModelTooLargeError) return;
          // The loader's errors are plain Errors that name the model's file or directory.
          assert.equal((error as Error).constructor, Error, `expected an Error naming the model, got ${String((error as Error)?.stack ?? error)}`);
          assert.ok((error as Error).message.includes(dir), `the error does not name the model: ${(error as Error).message}`);
        }
      }),
      parameters('weightsManifest'),
    );
    outcomes.assertBothSeen('weightsManifest');
  });

  it(`the model artifact envelope: cut, padded, overwritten or random bytes end in ArtifactFormatError or the parts (${RUNS} cases)`, async () => {
    const jsonLength = modelBytes.readUInt32LE(8);
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat({ max: 12 + jsonLength + 16 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat({ max: modelBytes.length }) }),
      fc.record({ kind: fc.constant('pad' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
      fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.nat({ max: 2 * jsonLength }), fc.constant(0xffffffff)) }),
      fc.record({ kind: fc.constant('json' as const), value: fc.json({ maxDepth: 3 }) }),
      fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
    );
    const outcomes = new Outcomes();
    await fc.assert(
      fc.property(damage, (change) => {
        let bytes = Buffer.from(modelBytes);
        if (change.kind === 'overwrite') Buffer.from(change.bytes).copy(bytes, Math.min(change.at, bytes.length - 1));
        else if (change.kind === 'cut') bytes = bytes.subarray(0, change.at);
        else if (change.kind === 'pad') bytes = Buffer.concat([bytes, change.bytes]);
        else if (change.kind === 'length') bytes.writeUInt32LE(change.value, 8);
        else if (change.kind === 'json') {
          const json = Buffer.from(change.value, 'utf8');
          const header = Buffer.from(bytes.subarray(0, 12));
          header.writeUInt32LE(json.length, 8);
          bytes = Buffer.concat([header, json, base.weights]);
        } else bytes = Buffer.from(change.bytes);
        try {
          const parts = unpackModelArtifact(bytes);
          assert.ok(typeof parts.modelJson.modelTopology === 'object');
          outcomes.accepted += 1;
        } catch (error) {
          assertModelRefusal(error, [ArtifactFormatError]);
          outcomes.refused += 1;
        }
      }),
      parameters('modelEnvelope'),
    );
    outcomes.assertBothSeen('modelEnvelope');
  });

  it(`the dataset artifact envelope: damaged bytes end in ArtifactFormatError or a dataset whose samples read (${RUNS} cases)`, () => {
    const datasetBytes = datasetToArtifact(resolveDataset('synthetic:cifar?n=4&seed=3&classes=10'));
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat({ max: 256 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat({ max: datasetBytes.length }) }),
      fc.record({ kind: fc.constant('pad' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
      fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
    );
    const outcomes = new Outcomes();
    fc.assert(
      fc.property(damage, (change) => {
        let bytes = Buffer.from(datasetBytes);
        if (change.kind === 'overwrite') Buffer.from(change.bytes).copy(bytes, Math.min(change.at, bytes.length - 1));
        else if (change.kind === 'cut') bytes = bytes.subarray(0, change.at);
        else if (change.kind === 'pad') bytes = Buffer.concat([bytes, change.bytes]);
        else bytes = Buffer.from(change.bytes);
        let dataset: LabeledDataset;
        try {
          dataset = datasetFromArtifact(bytes);
        } catch (error) {
          assertModelRefusal(error, [ArtifactFormatError]);
          outcomes.refused += 1;
          return;
        }
        readEverySample(dataset);
        outcomes.accepted += 1;
      }),
      parameters('datasetEnvelope'),
    );
    outcomes.assertBothSeen('datasetEnvelope');
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));
});

/** Reads each sample and label of a (small) dataset, as a worker would. */
function readEverySample(dataset: LabeledDataset): void {
  const length = dataset.sampleShape.reduce((product, extent) => product * extent, 1);
  const target = new Float32Array(length);
  for (let index = 0; index < Math.min(dataset.size, 8); index += 1) {
    dataset.writeSample(index, target, 0);
    const label = dataset.label(index);
    assert.ok(Number.isInteger(label), `label ${label} of sample ${index}`);
  }
}

// ---- dataset specs -------------------------------------------------------------------------

describe('fuzzing dataset specs', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ippro-fuzz-specs-'));
    writeFileSync(join(dataDir, 'good.json'), JSON.stringify({ inputs: [[[[0.1, 0.2, 0.3]]], [[[0.4, 0.5, 0.6]]], [[[0.7, 0.8, 0.9]]]], labels: [0, 1, 0] }));
    writeFileSync(join(dataDir, 'bad.json'), '{"inputs": [[1, 2]], "labels": [');
    mkdirSync(join(dataDir, 'empty-folder'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it(`the spec parser and resolver: every spec ends in DataError or a dataset whose samples read (${RUNS} cases)`, () => {
    const number = fc.oneof(
      fc.nat({ max: 80 }).map(String),
      fc.constantFrom('0', '-1', '0.5', '1e3', '', ' ', 'NaN', '4294967296', '9007199254740993', '99999999999999999999999', '1.0', '0x10'),
    );
    const parameter = fc.tuple(fc.constantFrom('n', 'seed', 'classes', 'split', 'val', 'split-seed', 'normalize', 'size', 'fit', 'channels', 'convert', 'x', 'y', 'zzz', ''), fc.oneof(number, fc.constantFrom('train', 'val', 'test', 'mean=0.5,0.5,0.5,std=0.2,0.2,0.2', 'mean=1,std=0', 'crop', 'true', '3'), fc.string({ maxLength: 6 })));
    const body = fc.oneof(fc.constantFrom('train', 'test', 'cifar', 'good.json', 'bad.json', 'missing.json', 'empty-folder', '', 'valid'), fc.string({ maxLength: 10 }));
    const range = fc.oneof(fc.constant(''), fc.tuple(number, number).map(([a, b]) => `[${a}:${b}]`), fc.string({ maxLength: 6 }).map((text) => `[${text}]`));
    const spec = fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .tuple(fc.constantFrom('synthetic', 'cifar10', 'json', 'images', 'npz', 'imagenet', ''), body, fc.array(parameter, { maxLength: 4 }), range)
          .map(([scheme, main, pairs, tail]) => `${scheme}:${main}${pairs.length > 0 ? `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}` : ''}${tail}`),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom('synthetic:cifar?n=8&seed=1&classes=10', 'synthetic:cifar?n=16&classes=3&split=val&val=0.25', 'json:good.json', 'json:good.json?normalize=mean=0.5,0.5,0.5,std=0.2,0.2,0.2'), range)
          .map(([valid, tail]) => `${valid}${tail}`),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    );
    const outcomes = new Outcomes();
    fc.assert(
      fc.property(spec, (text) => {
        let dataset: LabeledDataset;
        try {
          parseDatasetSpec(text);
          // No CIFAR-10 files here: cifar10 specs must end in a clear not-found, not a read of something else.
          dataset = resolveDataset(text, { cwd: dataDir, cifar10Dir: join(dataDir, 'no-cifar10'), env: {} });
        } catch (error) {
          assert.ok(error instanceof DataError, `expected a DataError for '${text}', got ${String((error as Error)?.stack ?? error)}`);
          assert.ok(error.message.length > 0);
          outcomes.refused += 1;
          return;
        }
        readEverySample(dataset);
        outcomes.accepted += 1;
      }),
      parameters('datasetSpec'),
    );
    outcomes.assertBothSeen('datasetSpec');
  });
});

// ---- the worker service over gRPC ----------------------------------------------------------

describe('fuzzing every request message of the worker service over gRPC', () => {
  let store: ArtifactStore;
  let artifacts: ArtifactServer;
  let workerProcess: OwnedProcess;
  let worker: WorkerClient;
  let workerDir: string;
  const ids = { model: '', truncatedModel: '', notAModel: '', dataset: '', truncatedDataset: '', absent: artifactKeyOf(Buffer.from('never stored')) };
  let groupIds: string[] = [];

  before(async () => {
    workerDir = mkdtempSync(join(tmpdir(), 'ippro-fuzz-worker-'));
    store = await ArtifactStore.open({ root: join(workerDir, 'store'), fsync: false });
    artifacts = await startArtifactServer({ store });
    const bytes = modelBytes ?? (await smallModelBytes(20));
    const dataset = datasetToArtifact(resolveDataset(DATA));
    ids.model = (await store.put(bytes)).key;
    ids.truncatedModel = (await store.put(bytes.subarray(0, bytes.length - 100))).key;
    ids.notAModel = (await store.put(Buffer.from(JSON.stringify({ layerShards: [['conv1']] })))).key;
    ids.dataset = (await store.put(dataset)).key;
    ids.truncatedDataset = (await store.put(dataset.subarray(0, dataset.length - 100))).key;
    const model = await modelFromArtifact(bytes);
    groupIds = buildChannelGraph(model).groups.map((group) => group.id);
    model.dispose();
    workerProcess = new OwnedProcess('worker', WORKER_MAIN, [
      '--host', '127.0.0.1',
      '--port', '0',
      '--backend', BACKEND,
      '--slots', '1',
      '--max-batch-size', '64',
      '--artifacts', artifacts.address,
      '--cache-dir', join(workerDir, 'cache'),
      '--worker-id', 'fuzzed',
    ]);
    const [, address] = await workerProcess.waitForLine(/listening on (\S+)/);
    worker = new WorkerClient(address as string);
  });

  after(async () => {
    worker?.close();
    await workerProcess?.stop();
    await artifacts?.close();
    store?.close();
    rmSync(workerDir, { recursive: true, force: true });
  });

  /** The worker still serves: its health service says SERVING and a small real evaluation succeeds. */
  async function assertStillServing(): Promise<void> {
    const Health = loadProtocol().grpc.health.v1.Health;
    const health = new Health(worker.address, grpc.credentials.createInsecure());
    try {
      const status = await new Promise<string | undefined>((resolve, reject) =>
        health.Check({ service: '' }, { deadline: Date.now() + 10_000 }, (error, response) => (error ? reject(error) : resolve(response?.status as string | undefined))),
      );
      assert.equal(status, 'SERVING');
    } finally {
      health.close();
    }
    const result = await worker.evaluate({ jobId: 'still-serving', modelArtifactId: ids.model, dataset: { spec: DATA, artifactId: '' }, batches: { start: 0, end: 1 }, batchSize: 16 }, { timeoutMs: 60_000 });
    assert.equal(Number(result.count), 16);
  }

  /** Codes a worker answers bad input with; INTERNAL and UNKNOWN mean it did not recognise the problem. */
  const CLEAR_CODES = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.DATA_LOSS, grpc.status.FAILED_PRECONDITION, grpc.status.RESOURCE_EXHAUSTED]);

  async function assertClearOutcome(call: Promise<unknown>, request: unknown, outcomes: Outcomes): Promise<void> {
    try {
      await call;
      outcomes.accepted += 1;
    } catch (error) {
      const { code, details } = error as grpc.ServiceError;
      assert.ok(CLEAR_CODES.has(code), `status ${grpc.status[code]} (${details}) for ${JSON.stringify(request)}`);
      assert.ok(typeof details === 'string' && details.length > 0, `no details for ${JSON.stringify(request)}`);
      outcomes.refused += 1;
    }
  }

  const uint32 = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(16, 64, 65, 1000, 2 ** 31, 2 ** 32 - 1) });
  const artifactId = () =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(ids.model) },
      { weight: 2, arbitrary: fc.constantFrom(ids.truncatedModel, ids.notAModel, ids.dataset, ids.absent, '', '../../etc/passwd', ids.model.toUpperCase()) },
      { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
    );
  const datasetSpec = () =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      {
        weight: 8,
        arbitrary: fc.record({
          spec: fc.oneof(
            { weight: 4, arbitrary: fc.constant(DATA) },
            { weight: 2, arbitrary: fc.constantFrom('json:/etc/passwd', 'images:/', 'npz:x.npz', 'cifar10:train', 'synthetic:cifar?n=0', 'synthetic:cifar?n=16&classes=1', DATA.replace('n=64', 'n=99999999999999999999'), '') },
            { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
          ),
          artifactId: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(ids.dataset, ids.truncatedDataset, ids.model, ids.absent, 'not-an-id') }),
        }),
      },
    );
  const batches = () => fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 6, arbitrary: fc.record({ start: uint32, end: uint32 }) });
  const batchSize = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(16, 32) }, { weight: 2, arbitrary: uint32 });
  const output = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('OUTPUT_KIND_UNSPECIFIED', 'OUTPUT_KIND_PROBABILITIES', 'OUTPUT_KIND_LOGITS', 'OUTPUT_KIND_SIGMOID') },
    { weight: 1, arbitrary: fc.constantFrom(7, 99) },
  ) as fc.Arbitrary<protocol.OutputKind>;
  const jobId = fc.string({ maxLength: 40 });
  /** A minute per call at most: the valid cases compute on one small batch. */
  const CALL_MS = 60_000;

  it(`GetCapabilities: every call answers (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constant({}), async () => {
        const capabilities = await worker.getCapabilities();
        assert.equal(capabilities.workerId, 'fuzzed');
      }),
      parameters('getCapabilities'),
    );
    await assertStillServing();
  });

  it(`ComputeGradStats: random field values end in a clear status or a result (${RUNS} cases)`, async () => {
    const request = fc.record({
      jobId,
      modelArtifactId: artifactId(),
      dataset: datasetSpec(),
      batches: batches(),
      batchSize,
      groupIds: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom(...groupIds), fc.string({ maxLength: 12 })), { maxLength: 3 }) }),
      criterion: fc.oneof(
        fc.constant(undefined),
        fc.record({
          batchNormMode: fc.constantFrom('BATCH_NORM_MODE_UNSPECIFIED', 'BATCH_NORM_MODE_INFERENCE', 'BATCH_NORM_MODE_BATCH', 5) as fc.Arbitrary<protocol.BatchNormMode>,
          includeBias: fc.boolean(),
        }),
      ),
      output,
    });
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(request, async (message) => assertClearOutcome(worker.computeGradStats(message as protocol.ComputeGradStatsRequest, { timeoutMs: CALL_MS }), message, outcomes)),
      parameters('computeGradStats'),
    );
    outcomes.assertBothSeen('computeGradStats');
    await assertStillServing();
  });

  it(`FineTune: random field values end in a clear status or a result (${RUNS} cases)`, async () => {
    const rate = fc.oneof(fc.constantFrom(0.01, 0.1, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e308), fc.double());
    const request = fc.record({
      jobId,
      startModelArtifactId: artifactId(),
      dataset: datasetSpec(),
      shard: fc.oneof(
        fc.record({ replica: fc.record({ index: uint32, count: uint32 }) }),
        fc.record({ batches: fc.record({ start: uint32, end: uint32 }) }),
        fc.constant({}),
      ),
      batchSize,
      // Steps stay few: a valid call with many steps is real work, not an attack the worker must refuse.
      steps: fc.nat({ max: 3 }),
      firstStep: uint32,
      optimizer: fc.oneof(
        fc.constant(undefined),
        fc.constant({ learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.0005, labelSmoothing: 0.1 }),
        fc.record({
          learningRate: rate,
          momentum: rate,
          nesterov: fc.boolean(),
          weightDecay: rate,
          labelSmoothing: rate,
          cosineDecay: fc.oneof(fc.constant(undefined), fc.record({ startStep: uint32, steps: uint32 })),
        }),
      ),
      seed: uint32,
      augment: fc.boolean(),
      output,
    });
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(request, async ({ shard, ...rest }) => {
        const message = { ...rest, ...shard } as protocol.FineTuneRequest;
        await assertClearOutcome(worker.fineTune(message, { timeoutMs: CALL_MS }), message, outcomes);
      }),
      parameters('fineTune'),
    );
    outcomes.assertBothSeen('fineTune');
    await assertStillServing();
  });

  it(`Evaluate: random field values end in a clear status or a result (${RUNS} cases)`, async () => {
    const request = fc.record({ jobId, modelArtifactId: artifactId(), dataset: datasetSpec(), batches: batches(), batchSize, output });
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(request, async (message) => assertClearOutcome(worker.evaluate(message as protocol.EvaluateRequest, { timeoutMs: CALL_MS }), message, outcomes)),
      parameters('evaluate'),
    );
    outcomes.assertBothSeen('evaluate');
    await assertStillServing();
  });
});
