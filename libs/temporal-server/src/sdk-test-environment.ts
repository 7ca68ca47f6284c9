import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DevServer } from './dev-server';
import { findTemporalCli, type FindCliOptions } from './find-cli';
import { silentLog } from './log';

export interface TestEnvironmentOptions extends FindCliOptions {
  /** Persist server state to this SQLite file; in-memory when omitted. */
  dbFile?: string;
  namespace?: string;
}

/**
 * TestWorkflowEnvironment.createLocal() backed by the locally installed CLI when there is one;
 * otherwise the SDK downloads its default dev server, which needs internet access.
 */
export async function createTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
  const log = options.log ?? silentLog;
  // Loaded lazily: @temporalio/testing pulls in the native worker bridge.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const cli = await findTemporalCli(options);
  if (cli) log(`Using temporal CLI ${cli.version} at ${cli.path}`);
  else log('No local temporal CLI; letting the Temporal SDK download its default dev server.');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli.path } : undefined,
      dbFilename: options.dbFile,
      namespace: options.namespace,
      ip: '127.0.0.1',
    },
  });
}

/** Wraps a server from startDevServer(), for tests that need to stop and restart the server themselves. */
export async function connectTestEnvironment(server: DevServer): Promise<TestWorkflowEnvironment> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  return TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
}
