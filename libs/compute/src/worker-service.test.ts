import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ArtifactClient, loadProtocol } from '@ippro/protocol';
import { makeTestCertificates } from '@ippro/protocol/testing';
import type { TestCertificates } from '@ippro/protocol/testing';
import { JsonDataset } from '@ippro/data';
import { loadLayersModelFromDir } from '@ippro/graph';
import { deserializeGradStats } from '@ippro/importance';
import { datasetToArtifact, modelArtifactParts, modelToArtifact, packModelArtifact } from '@ippro/model-artifact';
import { buildSmallCnn } from '@ippro/models';
import { kernelFingerprint } from '@ippro/runtime';
import { PROSCORE_FIXTURE, makeTempDir, startCluster, statusOf } from './testing/worker-fixture';
import type { Cluster } from './testing/worker-fixture';
import { WorkerClient } from './worker-client';
import type { WorkerClientOptions } from './worker-client';
import { startWorker } from './worker-server';

const { status } = grpc;
const inference = { batchNormMode: 'BATCH_NORM_MODE_INFERENCE' as const, includeBias: false };
const LONG_SPEC = 'synthetic:cifar?n=4000&seed=1&classes=4';

let cluster: Cluster;
let mlpId: string;
let mlpDataId: string;
let cnnId: string;

before(async () => {
  cluster = await startCluster({ slots: 1, maxBatchSize: 64 });
  const mlp = await loadLayersModelFromDir(PROSCORE_FIXTURE);
  mlpId = await cluster.putModel(mlp);
  mlp.dispose();
  mlpDataId = await cluster.putDataset(JsonDataset.read(join(PROSCORE_FIXTURE, 'data.json')));
  const cnn = buildSmallCnn({ widths: [2, 2], numClasses: 4, seed: 1 });
  cnnId = await cluster.putModel(cnn);
  cnn.dispose();
});

after(async () => {
  await cluster.close();
});

const mlpScoring = (overrides: object = {}): object => ({
  modelArtifactId: mlpId,
  dataset: { artifactId: mlpDataId },
  batches: { start: 0, end: 4 },
  batchSize: 8,
  criterion: inference,
  ...overrides,
});

/** The worker still answers GetCapabilities and a small ComputeGradStats. */
async function assertServing(): Promise<void> {
  const capabilities = await cluster.client.getCapabilities();
  assert.equal(capabilities.activeCalls, 0);
  const result = await cluster.client.computeGradStats(mlpScoring({ batches: { start: 1, end: 2 } }));
  assert.equal(result.summary?.count, 8);
}

async function waitUntilIdle(timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (cluster.worker.service.activeCalls > 0) {
    if (Date.now() - started > timeoutMs) throw new Error(`the worker is still busy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

/** A plaintext grpc.health.v1 Check of `service` at `address`. */
async function healthStatus(address: string, service: string): Promise<string | undefined> {
  const Health = loadProtocol().grpc.health.v1.Health;
  const health = new Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<string | undefined>((resolve, reject) =>
      health.Check({ service }, (error, response) => (error ? reject(error) : resolve(response?.status as string | undefined))),
    );
  } finally {
    health.close();
  }
}

describe('capabilities, health and results', () => {
  it('reports its capabilities and serves grpc.health.v1', async () => {
    const capabilities = await cluster.client.getCapabilities();
    assert.equal(capabilities.backend, 'cpu');
    assert.equal(capabilities.slots, 1);
    assert.equal(capabilities.maxBatchSize, 64);
    assert.deepEqual(capabilities.datasetSchemes, ['cifar10', 'synthetic', 'artifact']);
    assert.equal(capabilities.artifactCacheBytes, 64 * 1024 * 1024);
    assert.equal(capabilities.workerId, cluster.worker.address);
    assert.equal(capabilities.threads, 1);
    // The fingerprint of this process's numeric path, computed the same way on every call.
    assert.match(capabilities.kernelFingerprint, /^[0-9a-f]{16}$/);
    assert.equal(capabilities.kernelFingerprint, kernelFingerprint({ backend: 'cpu', threads: 1 }).fingerprint);
    assert.equal(capabilities.kernelFingerprint, cluster.worker.kernelFingerprint);
    assert.equal(capabilities.tfjsVersion, kernelFingerprint({ backend: 'cpu', threads: 1 }).tfjs);
    assert.match(capabilities.tfjsVersion, /^\d+\.\d+\.\d+/);
    for (const service of ['', 'ippro.v1.WorkerService']) assert.equal(await healthStatus(cluster.worker.address, service), 'SERVING');
  });

  it('serves server reflection listing its services', async () => {
    const file = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const definition = protoLoader.loadSync(file, { keepCase: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
    const reflection = new loaded.grpc.reflection.v1.ServerReflection(cluster.worker.address, grpc.credentials.createInsecure());
    try {
      const call = (reflection as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }> }).ServerReflectionInfo();
      const answer = new Promise<string[]>((resolve, reject) => {
        call.on('data', (response) => resolve((response.list_services_response?.service ?? []).map((service: { name: string }) => service.name)));
        call.on('error', reject);
      });
      call.write({ list_services: '' });
      const names = await answer;
      call.end();
      assert.ok(names.includes('ippro.v1.WorkerService') && names.includes('grpc.health.v1.Health'), names.join(', '));
    } finally {
      reflection.close();
    }
  });

  it('answers FAILED_PRECONDITION when a named dataset is missing on this worker', async () => {
    const { dir, cleanup } = makeTempDir();
    const worker = await startWorker({ backend: 'cpu', artifacts: cluster.artifactServer.address, cacheDir: join(dir, 'cache'), cifar10Dir: join(dir, 'no-cifar') });
    const client = new WorkerClient(worker.address);
    try {
      const answer = await statusOf(client.evaluate({ modelArtifactId: cnnId, dataset: { spec: 'cifar10:test' }, batches: { start: 0, end: 1 }, batchSize: 10 }));
      assert.equal(answer.code, status.FAILED_PRECONDITION, answer.details);
      assert.match(answer.details, /cifar10:test: .*no-cifar/);
    } finally {
      client.close();
      await worker.shutdown();
      cleanup();
    }
  });

  it('serves a model from its cache once fetched, even when the artifact service lost it', async () => {
    const model = buildSmallCnn({ widths: [2, 2], numClasses: 4, seed: 99 });
    const id = await cluster.putModel(model);
    model.dispose();
    const request = { modelArtifactId: id, dataset: { spec: 'synthetic:cifar?n=4&seed=1&classes=4' }, batches: { start: 0, end: 1 }, batchSize: 4 };
    assert.equal((await cluster.client.evaluate(request)).count, 4);
    assert.equal(await cluster.store.delete(id), true);
    // Not the built model kept for reuse: the artifact bytes from the disk cache.
    cluster.worker.service.releaseModels();
    assert.equal((await cluster.client.evaluate(request)).count, 4);
  });

  it('reads the output kind from the model when a message has none (an older caller), as OUTPUT_KIND_UNSPECIFIED says', async () => {
    const request = { modelArtifactId: mlpId, dataset: { artifactId: mlpDataId }, batches: { start: 0, end: 4 }, batchSize: 8 };
    const unstated = await cluster.client.evaluate(request);
    const stated = await cluster.client.evaluate({ ...request, output: 'OUTPUT_KIND_PROBABILITIES' });
    assert.deepEqual(stated, unstated);
    assert.equal(unstated.count, 32);
  });

  it('writes the statistics as an artifact and caches the model by its id', async () => {
    const result = await cluster.client.computeGradStats(mlpScoring({ groupIds: ['dense1:0', 'residual_add:2'] }));
    const stats = deserializeGradStats(await cluster.artifacts.getArtifact(result.statsArtifactId));
    assert.deepEqual(stats.header.groupIds, ['dense1:0', 'residual_add:2']);
    assert.equal(stats.header.modelHash, mlpId);
    assert.equal(stats.header.datasetId, `artifact:${mlpDataId}`);
    assert.deepEqual(result.summary, { count: 32, lossSum: stats.sumLoss, groupCount: 2, sampleStart: 0, sampleEnd: 32, statsBytes: result.summary?.statsBytes });
  });
});

describe('bad input: a clear status naming the field, and the worker keeps serving', () => {
  const cases: [string, () => Promise<unknown>, number, RegExp][] = [
    ['an unknown model artifact', () => cluster.client.computeGradStats(mlpScoring({ modelArtifactId: 'ab'.repeat(32) })), status.NOT_FOUND, /artifact abab.* not found/],
    ['an unknown dataset artifact', () => cluster.client.evaluate({ ...mlpScoring(), dataset: { artifactId: 'cd'.repeat(32) } }), status.NOT_FOUND, /artifact cdcd.* not found/],
    ['a model id that is not a sha256', () => cluster.client.computeGradStats(mlpScoring({ modelArtifactId: '../etc/passwd' })), status.INVALID_ARGUMENT, /model_artifact_id "..\/etc\/passwd" is not an artifact id/],
    ['a batch range outside the dataset', () => cluster.client.computeGradStats(mlpScoring({ batches: { start: 2, end: 9 } })), status.INVALID_ARGUMENT, /batches \[2, 9\) is outside dataset .* 4 batches of 8/],
    ['an empty batch range', () => cluster.client.evaluate({ ...mlpScoring(), batches: { start: 3, end: 3 } }), status.INVALID_ARGUMENT, /batches \[3, 3\) is empty/],
    ['an unknown dataset scheme', () => cluster.client.computeGradStats(mlpScoring({ dataset: { spec: 'mnist:train' } })), status.INVALID_ARGUMENT, /dataset.spec: dataset spec 'mnist:train': unknown scheme 'mnist'/],
    ['a json: spec (a file path) from the network', () => cluster.client.computeGradStats(mlpScoring({ dataset: { spec: `json:${PROSCORE_FIXTURE}/data.json` } })), status.INVALID_ARGUMENT, /json: specs name files and are refused from the network/],
    ['a batch size above the limit', () => cluster.client.computeGradStats(mlpScoring({ batchSize: 65 })), status.INVALID_ARGUMENT, /batch_size 65 is above this worker's limit of 64/],
    ['an unstated batch-norm mode', () => cluster.client.computeGradStats(mlpScoring({ criterion: {} })), status.INVALID_ARGUMENT, /criterion.batch_norm_mode must be stated/],
    ['an unknown group id', () => cluster.client.computeGradStats(mlpScoring({ groupIds: ['dense1:1', 'conv9:0'] })), status.INVALID_ARGUMENT, /group_ids\[1\] "conv9:0" is not a group of model/],
    ['a frozen group id', () => cluster.client.computeGradStats(mlpScoring({ groupIds: ['classifier:0'] })), status.INVALID_ARGUMENT, /group_ids\[0\] 'classifier:0' is not prunable \(touches the output of output layer "classifier"\)/],
    ['a model that does not fit the data', () => cluster.client.evaluate({ ...mlpScoring(), modelArtifactId: cnnId }), status.INVALID_ARGUMENT, /does not fit dataset .*inputs of shape \[32, 32, 3\]/],
    ['a replica index beyond the count', () => cluster.client.fineTune({ startModelArtifactId: mlpId, dataset: { artifactId: mlpDataId }, replica: { index: 2, count: 2 }, batchSize: 8, steps: 1, optimizer: { learningRate: 0.1 } }), status.INVALID_ARGUMENT, /replica 2 of 2/],
    ['an output kind the model contradicts', () => cluster.client.evaluate({ ...mlpScoring(), output: 'OUTPUT_KIND_LOGITS' }), status.INVALID_ARGUMENT, /output kind logits contradicts the model: output layer 'classifier' \(Dense\) has activation softmax/],
    ['an output kind this worker does not know', () => cluster.client.evaluate({ ...mlpScoring(), output: 7 as never }), status.INVALID_ARGUMENT, /output 7 is not an output kind this worker knows/],
    ['an images: spec (a folder path) from the network', () => cluster.client.evaluate({ ...mlpScoring(), dataset: { spec: 'images:/data/train' } }), status.INVALID_ARGUMENT, /images: specs name files and are refused from the network/],
    ['a missing optimizer', () => cluster.client.fineTune({ startModelArtifactId: mlpId, dataset: { artifactId: mlpDataId }, batches: { start: 0, end: 1 }, batchSize: 8, steps: 1 }), status.INVALID_ARGUMENT, /optimizer is required/],
  ];
  for (const [what, call, code, message] of cases) {
    it(what, async () => {
      const answer = await statusOf(call());
      assert.equal(answer.code, code, `${what}: ${status[answer.code]}: ${answer.details}`);
      assert.match(answer.details, message);
      await assertServing();
    });
  }

  it('a model with a non-finite weight, naming the layer', async () => {
    const mlp = await loadLayersModelFromDir(PROSCORE_FIXTURE);
    const parts = modelArtifactParts(mlp);
    mlp.dispose();
    const weights = new Uint8Array(parts.weights);
    const kernel = parts.modelJson.weightsManifest[0]?.weights.findIndex((spec) => spec.name === 'dense3/kernel') ?? -1;
    const offset = (parts.modelJson.weightsManifest[0]?.weights.slice(0, kernel) ?? []).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
    new DataView(weights.buffer).setFloat32(offset, Number.POSITIVE_INFINITY, true);
    const { key } = await cluster.artifacts.putArtifact(packModelArtifact({ ...parts, weights }));
    const answer = await statusOf(cluster.client.computeGradStats(mlpScoring({ modelArtifactId: key })));
    assert.equal(answer.code, status.INVALID_ARGUMENT, answer.details);
    assert.match(answer.details, /model_artifact_id [0-9a-f]{64}: model artifact: Layer "dense3" weight "dense3\/kernel" has a non-finite value \(Infinity\)/);
    const garbage = await cluster.artifacts.putArtifact(Buffer.from('not a model, just some text'));
    assert.match((await statusOf(cluster.client.evaluate({ ...mlpScoring(), modelArtifactId: garbage.key }))).details, /not a model artifact/);
    const notData = await cluster.artifacts.putArtifact(modelToArtifact(buildSmallCnn({ widths: [2, 2], numClasses: 4, seed: 1 })));
    const wrongKind = await statusOf(cluster.client.evaluate({ ...mlpScoring(), dataset: { artifactId: notData.key } }));
    assert.equal(wrongKind.code, status.INVALID_ARGUMENT);
    assert.match(wrongKind.details, /dataset artifact: magic "IPMA"/);
    await assertServing();
  });

  it('a model whose config asks for a Dense layer of 2^30 units, refused before the worker builds it', async () => {
    const mlp = await loadLayersModelFromDir(PROSCORE_FIXTURE);
    const parts = modelArtifactParts(mlp);
    mlp.dispose();
    const topology = JSON.parse(JSON.stringify(parts.modelJson.modelTopology).replace(/"units":\d+/, `"units":${2 ** 30}`)) as typeof parts.modelJson.modelTopology;
    const { key } = await cluster.artifacts.putArtifact(packModelArtifact({ modelJson: { ...parts.modelJson, modelTopology: topology }, weights: parts.weights }));
    const answer = await statusOf(cluster.client.computeGradStats(mlpScoring({ modelArtifactId: key })));
    assert.equal(answer.code, status.INVALID_ARGUMENT, answer.details);
    assert.match(answer.details, /model artifact: the model has at least \S+ parameters, above the limit of 2\.00e\+9; the largest layer is "dense1" \(Dense, .*\(--max-model-params raises the limit\)/);
    await assertServing();
  });

  it('a message over the limit is RESOURCE_EXHAUSTED', async () => {
    const big = new WorkerClient(cluster.worker.address, { maxMessageBytes: 16 * 1024 * 1024 });
    try {
      const groupIds = Array.from({ length: 5000 }, (_, index) => `g${index}-${'x'.repeat(1000)}`);
      const answer = await statusOf(big.computeGradStats(mlpScoring({ groupIds })));
      assert.equal(answer.code, status.RESOURCE_EXHAUSTED, answer.details);
    } finally {
      big.close();
    }
    await assertServing();
  });
});

describe('slots, cancellation and deadlines', () => {
  const longScoring = (): object => ({
    modelArtifactId: cnnId,
    dataset: { spec: LONG_SPEC },
    batches: { start: 0, end: 400 },
    batchSize: 10,
    criterion: inference,
  });

  it('refuses a call beyond its slots with RESOURCE_EXHAUSTED and stops a cancelled call within a batch', async () => {
    const controller = new AbortController();
    let done = 0;
    let firstProgress: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      firstProgress = resolve;
    });
    const running = statusOf(
      cluster.client.computeGradStats(longScoring(), {
        signal: controller.signal,
        onProgress: (progress) => {
          done = progress.done;
          firstProgress();
        },
      }),
    );
    await started;
    const refused = await statusOf(cluster.client.evaluate({ ...mlpScoring() }));
    assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /all 1 slot\(s\) are busy/);
    assert.equal((await cluster.client.getCapabilities()).activeCalls, 1);
    controller.abort();
    assert.equal((await running).code, status.CANCELLED);
    const stopMs = await waitUntilIdle(2000);
    assert.ok(done < 400, `the call ran to the end (${done} batches)`);
    assert.ok(stopMs < 1000, `stopping took ${stopMs} ms`);
    await assertServing();
  });

  it('stops a call at its deadline', async () => {
    const answer = await statusOf(cluster.client.computeGradStats(longScoring(), { timeoutMs: 300 }));
    assert.equal(answer.code, status.DEADLINE_EXCEEDED);
    await waitUntilIdle(2000);
    await assertServing();
  });

  it('FineTune and Evaluate honour cancellation too', async () => {
    for (const start of [
      (signal: AbortSignal, onProgress: () => void) =>
        cluster.client.fineTune({ startModelArtifactId: cnnId, dataset: { spec: LONG_SPEC }, replica: { index: 0, count: 1 }, batchSize: 10, steps: 400, optimizer: { learningRate: 0.01 } }, { signal, onProgress }),
      (signal: AbortSignal, onProgress: () => void) =>
        cluster.client.evaluate({ modelArtifactId: cnnId, dataset: { spec: LONG_SPEC }, batches: { start: 0, end: 400 }, batchSize: 10 }, { signal, onProgress }),
    ]) {
      const controller = new AbortController();
      const answer = statusOf(start(controller.signal, () => controller.abort()));
      assert.equal((await answer).code, status.CANCELLED);
      await waitUntilIdle(2000);
    }
    await assertServing();
  });
});

describe('shutdown', () => {
  it('finishes running calls, refuses new ones, or aborts them with UNAVAILABLE', async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      for (const abort of [false, true]) {
        const worker = await startWorker({ backend: 'cpu', artifacts: cluster.artifactServer.address, cacheDir: join(dir, `cache-${abort}`) });
        const client = new WorkerClient(worker.address);
        let first: () => void = () => undefined;
        const progressed = new Promise<void>((resolve) => {
          first = resolve;
        });
        const batches = abort ? { start: 0, end: 400 } : { start: 0, end: 30 };
        const call = client.computeGradStats({ modelArtifactId: cnnId, dataset: { spec: LONG_SPEC }, batches, batchSize: 10, criterion: inference }, { onProgress: () => first() });
        call.catch(() => undefined);
        await progressed;
        const stopping = worker.shutdown({ abort });
        const late = await statusOf(client.getCapabilities().then(() => client.evaluate({ modelArtifactId: mlpId, dataset: { artifactId: mlpDataId }, batches: { start: 0, end: 1 }, batchSize: 8 })));
        assert.ok([status.UNAVAILABLE, status.CANCELLED].includes(late.code), `a call during shutdown: ${status[late.code]} ${late.details}`);
        if (abort) {
          const answer = await statusOf(call);
          assert.equal(answer.code, status.UNAVAILABLE);
          assert.match(answer.details, /aborted ComputeGradStats: the worker is shutting down; retry on another worker/);
        } else {
          assert.equal((await call).summary?.count, 300);
        }
        await stopping;
        client.close();
      }
    } finally {
      cleanup();
    }
  });
});

describe('a worker serving the artifact service itself', () => {
  it('takes models from clients and returns results from its own store', async () => {
    const { dir, cleanup } = makeTempDir();
    const worker = await startWorker({ backend: 'cpu', cacheDir: dir });
    const artifacts = new ArtifactClient(worker.address);
    const client = new WorkerClient(worker.address);
    try {
      assert.equal(worker.servesArtifacts, true);
      const mlp = await loadLayersModelFromDir(PROSCORE_FIXTURE);
      const { key: modelId } = await artifacts.putArtifact(modelToArtifact(mlp));
      mlp.dispose();
      const { key: dataId } = await artifacts.putArtifact(datasetToArtifact(JsonDataset.read(join(PROSCORE_FIXTURE, 'data.json'))));
      const result = await client.computeGradStats({ modelArtifactId: modelId, dataset: { artifactId: dataId }, batches: { start: 0, end: 2 }, batchSize: 8, criterion: inference });
      assert.equal(deserializeGradStats(await artifacts.getArtifact(result.statsArtifactId)).count, 16);
    } finally {
      client.close();
      artifacts.close();
      await worker.shutdown();
      cleanup();
    }
  });
});

describe('TLS and mutual TLS', () => {
  let certs: TestCertificates;
  let tempCleanup: () => void;

  before(() => {
    const { dir, cleanup } = makeTempDir('ippro-worker-tls-');
    tempCleanup = cleanup;
    certs = makeTestCertificates(dir);
  });

  after(() => tempCleanup());

  async function tryCall(address: string, options: WorkerClientOptions): Promise<number | undefined> {
    const client = new WorkerClient(address, options);
    try {
      await client.getCapabilities(5000);
      const result = await client.evaluate({ modelArtifactId: mlpId, dataset: { artifactId: mlpDataId }, batches: { start: 0, end: 1 }, batchSize: 8 });
      assert.equal(result.count, 8);
      return undefined;
    } catch (error) {
      return (error as grpc.ServiceError).code;
    } finally {
      client.close();
    }
  }

  it('serves TLS clients that trust the CA and refuses the others', async () => {
    const worker = await startWorker({ backend: 'cpu', artifacts: cluster.artifactServer.address, tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    try {
      assert.equal(await tryCall(worker.address, { tls: { caFile: certs.caCert } }), undefined);
      assert.equal(await tryCall(worker.address, {}), status.UNAVAILABLE);
      assert.equal(await tryCall(worker.address, { tls: { caFile: certs.rogueClientCert } }), status.UNAVAILABLE);
    } finally {
      await worker.shutdown();
    }
  });

  it('refuses to start beyond loopback without mutual TLS, naming the flags and --insecure', async () => {
    await assert.rejects(
      startWorker({ backend: 'cpu', address: '0.0.0.0:0', artifacts: cluster.artifactServer.address }),
      /the worker service would listen on 0\.0\.0\.0:0, beyond loopback, without TLS: give --tls-cert, --tls-key and --tls-ca .*or --insecure/,
    );
    await assert.rejects(
      startWorker({ backend: 'cpu', artifacts: '10.9.9.9:7070', tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert } }),
      /the artifact service at 10\.9\.9\.9:7070 is beyond loopback and would be reached without mutual TLS: give --artifacts-ca, --artifacts-cert and --artifacts-key/,
    );
  });

  it('with mutual TLS serves only clients with a certificate from the CA', async () => {
    const worker = await startWorker({
      backend: 'cpu',
      artifacts: cluster.artifactServer.address,
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert },
      healthAddress: '127.0.0.1:0',
    });
    try {
      // The plaintext health port (for Kubernetes probes) answers health checks and nothing else.
      assert.equal(await healthStatus(worker.healthAddress as string, 'ippro.v1.WorkerService'), 'SERVING');
      assert.equal(await tryCall(worker.healthAddress as string, {}), status.UNIMPLEMENTED);
      const trusted = { caFile: certs.caCert };
      assert.equal(await tryCall(worker.address, { tls: { ...trusted, certFile: certs.clientCert, keyFile: certs.clientKey } }), undefined);
      assert.equal(await tryCall(worker.address, { tls: trusted }), status.UNAVAILABLE);
      assert.equal(await tryCall(worker.address, { tls: { ...trusted, certFile: certs.rogueClientCert, keyFile: certs.rogueClientKey } }), status.UNAVAILABLE);
      assert.equal(await tryCall(worker.address, { tls: { ...trusted, certFile: certs.expiredClientCert, keyFile: certs.expiredClientKey } }), status.UNAVAILABLE, 'an expired client certificate');
      assert.equal(await tryCall(worker.address, { tls: { ...trusted, certFile: certs.clientCert, keyFile: certs.clientKey } }), undefined);
    } finally {
      await worker.shutdown();
    }
  });
});
