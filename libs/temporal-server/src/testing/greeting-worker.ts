import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './greeting-activities';

export interface WorkerTarget {
  address: string;
  namespace: string;
}

/**
 * Runs a real worker for the greeting workflow until `work` settles, then shuts it down.
 * The workflow is bundled from the compiled JS next to this file, as production workers would.
 */
export async function withGreetingWorker<T>(target: WorkerTarget, taskQueue: string, work: () => Promise<T>): Promise<T> {
  const connection = await NativeConnection.connect({ address: target.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: target.namespace,
      taskQueue,
      workflowsPath: require.resolve('./greeting-workflow'),
      activities,
    });
    return await worker.runUntil(work);
  } finally {
    await connection.close();
  }
}
