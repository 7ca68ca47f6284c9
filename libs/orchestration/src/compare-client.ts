import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { CompareInput, CompareProgress } from '@ippro/compare';
import { compareCriteria, compareProgressQuery } from '@ippro/workflows';
import { RunIdTakenError } from './prune-client';
import type { StartRunOptions } from './prune-client';
import { DEFAULT_TASK_QUEUE } from './temporal-connection';

export type CompareHandle = WorkflowHandle<typeof compareCriteria>;

/** Starts a compareCriteria run. Run ids are never reused: a taken one throws RunIdTakenError. */
export async function startCompare(client: Client, input: CompareInput, options: StartRunOptions): Promise<CompareHandle> {
  try {
    return await client.workflow.start(compareCriteria, {
      args: [input],
      workflowId: options.workflowId,
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(options.memo === undefined ? {} : { memo: options.memo }),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const status = await client.workflow
      .getHandle(options.workflowId)
      .describe()
      .then((description) => description.status.name as string, () => 'earlier');
    throw new RunIdTakenError(options.workflowId, status);
  }
}

export function compareHandle(client: Client, workflowId: string): CompareHandle {
  return client.workflow.getHandle<typeof compareCriteria>(workflowId);
}

export const queryCompareProgress = (handle: CompareHandle): Promise<CompareProgress> => handle.query(compareProgressQuery);
