import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startDevServer, type DevServer } from './dev-server';
import { DevServerError } from './errors';
import { findFreePort } from './free-port';
import { withGreetingWorker } from './testing/greeting-worker';
import { greetingWorkflow } from './testing/greeting-workflow';

// The worker logs every webpack module at INFO; warnings are what a test run needs.
Runtime.install({ logger: new DefaultLogger('WARN') });

let workDir: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ippro-temporal-server-'));
});

after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function withClient<T>(server: DevServer, use: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await use(new Client({ connection, namespace: server.namespace }));
  } finally {
    await connection.close();
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startDevServer', () => {
  it('runs a workflow end to end with a real worker, then stops cleanly', async () => {
    const server = await startDevServer({ dbFile: join(workDir, 'e2e.db'), namespace: 'ippro-test' });
    try {
      assert.match(server.address, /^127\.0\.0\.1:\d+$/);
      assert.equal(server.uiUrl, undefined, 'headless by default');
      const result = await withClient(server, (client) =>
        withGreetingWorker(server, 'e2e', () =>
          client.workflow.execute(greetingWorkflow, { taskQueue: 'e2e', workflowId: 'greet-e2e', args: ['Temporal'] }),
        ),
      );
      assert.equal(result, 'Hello, Temporal!');
    } finally {
      await server.stop();
    }
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.equal(server.isRunning(), false);
    assert.equal(isProcessAlive(server.pid), false);
    await server.stop(); // idempotent
  });

  it('keeps workflows across a restart on the same db file and port', async () => {
    const dbFile = join(workDir, 'restart.db');
    const first = await startDevServer({ dbFile });
    const workflowId = 'survives-restart';
    try {
      await withClient(first, (client) =>
        client.workflow.start(greetingWorkflow, { taskQueue: 'restart', workflowId, args: ['again'] }),
      );
    } finally {
      await first.stop();
    }
    assert.ok(existsSync(dbFile), 'db file is kept after stop');

    const second = await startDevServer({ dbFile, port: first.port });
    try {
      assert.equal(second.address, first.address);
      await withClient(second, async (client) => {
        const handle = client.workflow.getHandle(workflowId);
        assert.equal((await handle.describe()).status.name, 'RUNNING');
        const listed = [];
        for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) listed.push(info.workflowId);
        assert.deepEqual(listed, [workflowId]);
        const result = await withGreetingWorker(second, 'restart', () => handle.result());
        assert.equal(result, 'Hello, again!');
      });
    } finally {
      await second.stop();
    }
  });

  it('reports a port clash with the server output instead of hanging', async () => {
    const port = await findFreePort();
    const squatter = await listen(port);
    try {
      await assert.rejects(startDevServer({ dbFile: join(workDir, 'clash.db'), port, startTimeoutMs: 15_000 }), (error) => {
        assert.ok(error instanceof DevServerError);
        assert.match(error.message, /exited with code 1 before it answered/);
        assert.match(error.message, /address already in use/i);
        return true;
      });
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('serves the Web UI on a free port when asked', async () => {
    const server = await startDevServer({ dbFile: join(workDir, 'ui.db'), ui: true });
    try {
      assert.ok(server.uiUrl);
      const response = await fetch(server.uiUrl);
      assert.equal(response.status, 200);
    } finally {
      await server.stop();
    }
  });
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Drop connections at once: the readiness probe connects here, and close() waits for open sockets.
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => resolve(server));
  });
}
