import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArtifactStore, artifactKeyOf } from '@ippro/artifact-store';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeteredStorage } from './metered-storage';
import { orchestratorMetrics, recordWorkerCall, workerMetrics } from './metrics';
import { startMetricsServer } from './metrics-server';
import type { MetricsServer } from './metrics-server';

/** The value of one sample line of the Prometheus text format, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let server: MetricsServer;
let healthy = true;

before(async () => {
  server = await startMetricsServer({ port: 0, host: '127.0.0.1', healthy: () => healthy });
});

after(async () => {
  await server.close();
});

describe('metrics server', () => {
  it('serves the recorded worker metrics in the Prometheus text format', async () => {
    workerMetrics.slots.set(2);
    recordWorkerCall({ method: 'ComputeGradStats', code: 'OK', seconds: 0.5, samples: 640 });
    recordWorkerCall({ method: 'ComputeGradStats', code: 'OK', seconds: 0.25, samples: 320 });
    recordWorkerCall({ method: 'FineTune', code: 'UNAVAILABLE', seconds: 0.01, samples: 0 });
    const response = await fetch(server.url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.equal(sample(text, 'ippro_worker_shards_done_total{operation="ComputeGradStats"}'), 2);
    assert.equal(sample(text, 'ippro_worker_images_total{operation="ComputeGradStats"}'), 960);
    assert.equal(sample(text, 'ippro_worker_images_per_second{operation="ComputeGradStats"}'), 1280);
    assert.equal(sample(text, 'ippro_worker_shards_failed_total{operation="FineTune",code="UNAVAILABLE"}'), 1);
    assert.equal(sample(text, 'ippro_worker_rpc_duration_seconds_count{method="ComputeGradStats",code="OK"}'), 2);
    assert.equal(sample(text, 'ippro_worker_rpc_duration_seconds_bucket{le="0.5",method="ComputeGradStats",code="OK"}'), 2);
    assert.equal(sample(text, 'ippro_worker_slots'), 2);
    assert.ok((sample(text, 'process_cpu_user_seconds_total') ?? -1) >= 0, 'process metrics are served too');
  });

  it('counts the artifact bytes moved through a store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ippro-telemetry-'));
    try {
      const store = new MeteredStorage(await ArtifactStore.open({ root: dir, fsync: false }), orchestratorMetrics.artifactBytes);
      const before = await fetch(server.url).then((response) => response.text());
      const bytes = Buffer.alloc(1000, 7);
      await store.put(bytes);
      await store.get(artifactKeyOf(bytes));
      for await (const chunk of store.read(artifactKeyOf(bytes), 300)) assert.ok(chunk.length <= 300);
      const text = await fetch(server.url).then((response) => response.text());
      const moved = (direction: string, from: string): number => sample(from, `ippro_orchestrator_artifact_bytes_total{direction="${direction}"}`) ?? 0;
      assert.equal(moved('put', text) - moved('put', before), 1000);
      assert.equal(moved('get', text) - moved('get', before), 2000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers /healthz from the process state and 404 elsewhere', async () => {
    const base = server.url.replace(/\/metrics$/, '');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    healthy = false;
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
    healthy = true;
    assert.equal((await fetch(`${base}/other`)).status, 404);
    await assert.rejects(startMetricsServer({ port: 70000 }), /metrics port 70000 is not a port/);
  });
});
