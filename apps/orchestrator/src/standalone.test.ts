import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { putTinyModel, tinyInput } from '@ippro/activities/testing';
import { ArtifactStore } from '@ippro/artifact-store';
import { makeTestCertificates } from '@ippro/protocol/testing';
import type { TestCertificates } from '@ippro/protocol/testing';
import { cifar10FilesPresent } from '@ippro/data';
import { connectTemporalClient } from '@ippro/temporal-connection';
import type { TemporalTarget } from '@ippro/temporal-connection';
import { startTlsProxy } from '@ippro/temporal-connection/testing';
import type { TlsProxy } from '@ippro/temporal-connection/testing';
import { findFreePort, startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { pruneModel } from '@ippro/workflows';

/**
 * The orchestrator as deployed: a process reaching Temporal over mutual TLS with an API key,
 * serving its artifact store to a gRPC worker process and dispatching compute to it, on a host
 * without CIFAR-10 (the worker has it).
 */
const MAIN = join(__dirname, 'main.js');
const WORKER_MAIN = resolve(__dirname, '../../worker/dist/main.js');
const CIFAR10 = resolve(__dirname, '../../../../shared/datasets/cifar10');

let dir: string;
let certs: TestCertificates;
let server: DevServer;
let proxy: TlsProxy;

interface Child {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** Starts a process and resolves once its stderr or stdout shows `ready`. */
async function startChild(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<Child> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let output = '';
  await new Promise<void>((done, fail) => {
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) done();
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    void exited.then((code) => fail(new Error(`${args[0]} exited with ${code}: ${output}`)));
  });
  return { child, exited, output: () => output };
}

before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'ippro-standalone-'));
  certs = makeTestCertificates(dir);
  server = await startDevServer({ dbFile: join(dir, 'temporal.db') });
  proxy = await startTlsProxy({ upstream: server.address, certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert });
});

after(async () => {
  await proxy?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ippro-orchestrator on its own', () => {
  it('runs over mutual TLS with an API key, dispatches to a worker it serves artifacts to, and plans CIFAR-10 shards without the files', async (test) => {
    if (!cifar10FilesPresent(CIFAR10)) {
      test.skip(`CIFAR-10 is not in ${CIFAR10}`);
      return;
    }
    const storeDir = join(dir, 'store');
    const modelId = await putTinyModel(await ArtifactStore.open({ root: storeDir }));
    const artifactsPort = await findFreePort('127.0.0.1');
    const worker = await startChild(
      [WORKER_MAIN, '--host', '127.0.0.1', '--port', '0', '--backend', 'auto', '--artifacts', `127.0.0.1:${artifactsPort}`, '--data-dir', CIFAR10, '--cache-dir', join(dir, 'worker-cache')],
      /listening on \S+/,
    );
    const workerAddress = /listening on (\S+)/.exec(worker.output())?.[1] as string;
    // No CIFAR-10 for the orchestrator: no --cifar10-dir, no $IPPRO_DATA_DIR, an empty home (no ~/.cache copy).
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(dir, 'home'), IPPRO_TEMPORAL_API_KEY: 'orchestrator-key' };
    delete env['IPPRO_DATA_DIR'];
    const orchestrator = await startChild(
      [
        MAIN, '--temporal', proxy.address, '--namespace', server.namespace, '--task-queue', 'standalone',
        '--tls-ca', certs.caCert, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey, '--tls-server-name', 'localhost',
        '--artifacts', storeDir, '--workers', workerAddress, '--serve-artifacts', `127.0.0.1:${artifactsPort}`, '--backend', 'cpu',
      ],
      /task queue 'standalone'/,
      env,
    );
    const target: TemporalTarget = { address: proxy.address, namespace: server.namespace, tls: { serverCaFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey, serverNameOverride: 'localhost' }, apiKey: 'client-key' };
    const client = await connectTemporalClient(target);
    try {
      const input = tinyInput(modelId, {
        criterion: 'l1',
        evaluation: { dataset: { spec: 'cifar10:test' }, batchSize: 500 },
        plan: { target: { metric: 'params', fraction: 0.2 }, rounds: 1 },
        shards: { evaluationShards: 2, maxParallel: 2 },
      });
      delete input.fineTune;
      delete input.scoring;
      const result = await client.workflow.execute(pruneModel, { args: [input], taskQueue: 'standalone', workflowId: 'standalone-cifar10' });
      assert.equal(result.history.length, 1);
      assert.equal(result.baseline.evaluated, 10_000, 'the whole CIFAR-10 test split, evaluated by the worker');
      assert.ok((result.history[0]?.params ?? Infinity) < result.baseline.params);
    } finally {
      await client.connection.close();
    }
    assert.match(orchestrator.output(), /artifact service listening on 127\.0\.0\.1:\d+/);
    assert.match(orchestrator.output(), new RegExp(`compute on the workers ${workerAddress}`));
    const keys = new Set(proxy.requests.map((request) => request.authorization));
    assert.ok(keys.has('Bearer orchestrator-key') && keys.has('Bearer client-key'), [...keys].join(', '));
    assert.ok(proxy.requests.every((request) => request.clientCommonName === 'ippro worker'));
    assert.ok(proxy.requests.some((request) => request.authorization === 'Bearer orchestrator-key' && request.path.endsWith('/PollWorkflowTaskQueue')));
    assert.equal(existsSync(join(dir, 'home', '.cache')), false, 'nothing downloaded');

    orchestrator.child.kill('SIGTERM');
    assert.equal(await orchestrator.exited, 0, orchestrator.output());
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
});
