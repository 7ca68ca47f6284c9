import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { ArtifactStore } from '@ippro/artifact-store';
import { ArtifactClient, startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer } from '@ippro/protocol';
import type { LabeledDataset } from '@ippro/data';
import { datasetToArtifact, modelToArtifact } from '@ippro/model-artifact';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { WorkerClient } from '../worker-client';
import { startWorker } from '../worker-server';
import type { WorkerHandle, WorkerOptions } from '../worker-server';

/** The independent PROscore oracle fixture (model.json, weights.bin, data.json). */
export const PROSCORE_FIXTURE = resolve(__dirname, '../../../../../shared/fixtures/proscore-mlp');

export function makeTempDir(prefix = 'ippro-compute-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An artifact service and a cpu worker fetching from it, on loopback, with clients of both. */
export interface Cluster {
  store: ArtifactStore;
  artifactServer: ArtifactServer;
  artifacts: ArtifactClient;
  worker: WorkerHandle;
  client: WorkerClient;
  putModel(model: LayersModel): Promise<string>;
  putDataset(dataset: LabeledDataset): Promise<string>;
  close(): Promise<void>;
}

export async function startCluster(options: Partial<WorkerOptions> = {}): Promise<Cluster> {
  const { dir, cleanup } = makeTempDir();
  const store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: false });
  const artifactServer = await startArtifactServer({ store });
  const worker = await startWorker({ backend: 'cpu', artifacts: artifactServer.address, cacheDir: join(dir, 'cache'), cacheBytes: 64 * 1024 * 1024, ...options });
  const client = new WorkerClient(worker.address);
  const artifacts = new ArtifactClient(artifactServer.address);
  return {
    store,
    artifactServer,
    artifacts,
    worker,
    client,
    putModel: async (model) => (await artifacts.putArtifact(modelToArtifact(model))).key,
    putDataset: async (dataset) => (await artifacts.putArtifact(datasetToArtifact(dataset))).key,
    close: async () => {
      client.close();
      artifacts.close();
      await worker.shutdown({ abort: true, graceMs: 2000 });
      await artifactServer.close(500);
      cleanup();
    },
  };
}

/** The gRPC status code of a rejected call. */
export async function statusOf(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    const { code, details } = error as ServiceError;
    return { code, details };
  }
  throw new Error('the call succeeded; a failure was expected');
}
