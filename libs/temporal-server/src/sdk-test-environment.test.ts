import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startDevServer } from './dev-server';
import { connectTestEnvironment, createTestEnvironment } from './sdk-test-environment';

describe('createTestEnvironment', () => {
  it('starts the SDK test environment on the local CLI', async () => {
    const env = await createTestEnvironment({ namespace: 'ippro-env' });
    try {
      const info = await env.connection.workflowService.describeNamespace({ namespace: 'ippro-env' });
      assert.equal(info.namespaceInfo?.name, 'ippro-env');
    } finally {
      await env.teardown();
    }
  });
});

describe('connectTestEnvironment', () => {
  it('wraps a server started by startDevServer, leaving its lifecycle to the caller', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ippro-test-env-'));
    const server = await startDevServer({ dbFile: join(dir, 'env.db') });
    try {
      const env = await connectTestEnvironment(server);
      assert.equal(env.address, server.address);
      await env.connection.workflowService.getSystemInfo({});
      await env.teardown();
      assert.equal(server.isRunning(), true);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
