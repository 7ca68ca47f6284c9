import type { Client, WorkflowHandle } from '@temporalio/client';
import { cancelSignal, pauseSignal, progressQuery, pruneModel, resumeSignal } from '@ippro/workflows';
import type { PruneProgress, PruneWorkflowInput } from '@ippro/workflow-core';
import { DEFAULT_TASK_QUEUE } from './temporal-connection';

export type PruneHandle = WorkflowHandle<typeof pruneModel>;

/** Starts a pruneModel run; the handle follows it across continue-as-new. */
export function startPrune(client: Client, input: PruneWorkflowInput, options: { workflowId: string; taskQueue?: string }): Promise<PruneHandle> {
  return client.workflow.start(pruneModel, { args: [input], workflowId: options.workflowId, taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE });
}

export function pruneHandle(client: Client, workflowId: string): PruneHandle {
  return client.workflow.getHandle<typeof pruneModel>(workflowId);
}

export const queryProgress = (handle: PruneHandle): Promise<PruneProgress> => handle.query(progressQuery);
export const pausePrune = (handle: PruneHandle): Promise<void> => handle.signal(pauseSignal);
export const resumePrune = (handle: PruneHandle): Promise<void> => handle.signal(resumeSignal);
export const cancelPrune = (handle: PruneHandle): Promise<void> => handle.signal(cancelSignal);
