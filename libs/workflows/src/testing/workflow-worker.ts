import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createTestEnvironment } from '@ippro/temporal-server';
import { createStubActivities } from './stub-activities';
import type { StubRun } from './stub-activities';

export interface WorkflowTestBench {
  client: Client;
  taskQueue: string;
  /** The stub activities' answers for each workflow id the tests start. */
  runs: Map<string, StubRun>;
  stop(): Promise<void>;
}

/**
 * A local Temporal dev server (the installed CLI, no download) and one Worker running this
 * library's workflows, bundled from its compiled entry, with stub activities.
 */
export async function startWorkflowTestBench(taskQueue: string): Promise<WorkflowTestBench> {
  // The worker logs every webpack module at INFO; warnings are what a test run needs.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const environment: TestWorkflowEnvironment = await createTestEnvironment();
  const runs = new Map<string, StubRun>();
  try {
    const worker = await Worker.create({
      connection: environment.nativeConnection,
      namespace: environment.namespace ?? 'default',
      taskQueue,
      workflowsPath: require.resolve('..'),
      activities: createStubActivities(runs),
    });
    const running = worker.run();
    return {
      client: environment.client,
      taskQueue,
      runs,
      async stop() {
        worker.shutdown();
        await running;
        await environment.teardown();
      },
    };
  } catch (error) {
    await environment.teardown();
    throw error;
  }
}
