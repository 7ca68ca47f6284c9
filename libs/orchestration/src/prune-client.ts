import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { cancelSignal, pauseSignal, progressQuery, pruneModel, resumeSignal } from '@ippro/workflows';
import type { PruneProgress, PruneWorkflowInput } from '@ippro/workflow-core';
import { DEFAULT_TASK_QUEUE } from './temporal-connection';

export type PruneHandle = WorkflowHandle<typeof pruneModel>;

/** A run id that already names a run (running or finished): run ids are never reused. */
export class RunIdTakenError extends Error {
  override readonly name = 'RunIdTakenError';

  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super(`run id '${runId}' is already taken by a ${status} run; choose another run id`);
  }
}

/**
 * The most a run's input may hold as JSON. Temporal refuses payloads above 2 MB and warns above
 * 256 KiB; a run's input names its model and data by artifact id and is a few KiB.
 */
export const MAX_RUN_INPUT_BYTES = 256 * 1024;

/** A run input too large to send through Temporal; the message names its largest field. */
export class RunInputTooLargeError extends Error {
  override readonly name = 'RunInputTooLargeError';

  constructor(
    readonly bytes: number,
    readonly largestField: string,
  ) {
    super(
      `the run input is ${bytes} bytes of JSON (${largestField} the largest part), above the ${MAX_RUN_INPUT_BYTES} bytes a run may carry; ` +
        'models and data travel as artifacts, named by id',
    );
  }
}

function checkInputSize(input: PruneWorkflowInput): void {
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes <= MAX_RUN_INPUT_BYTES) return;
  const sizes = Object.entries(input).map(([field, value]) => [field, Buffer.byteLength(JSON.stringify(value) ?? '')] as const);
  const [field, size] = sizes.reduce((largest, entry) => (entry[1] > largest[1] ? entry : largest));
  throw new RunInputTooLargeError(bytes, `${field}: ${size} bytes`);
}

/** Throws RunIdTakenError when `workflowId` names a run already (call it before uploading anything for a new run). */
export async function checkRunIdFree(client: Client, workflowId: string): Promise<void> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    throw new RunIdTakenError(workflowId, description.status.name);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return;
    throw error;
  }
}

/** How a run is started: its id, its task queue, and what its starter records beside its input. */
export interface StartRunOptions {
  workflowId: string;
  taskQueue?: string;
  /**
   * Temporal's memo of the run: facts its starter keeps with it that the workflow never reads
   * (shown in the Temporal UI, read back by describe()). Continue-as-new carries it to every run of the chain.
   */
  memo?: Record<string, unknown>;
}

/**
 * Starts a pruneModel run; the handle follows it across continue-as-new. A run id names one run
 * for good: starting another run under it throws RunIdTakenError, and the existing run is
 * untouched. An input above MAX_RUN_INPUT_BYTES throws RunInputTooLargeError before anything is sent.
 */
export async function startPrune(client: Client, input: PruneWorkflowInput, options: StartRunOptions): Promise<PruneHandle> {
  checkInputSize(input);
  try {
    return await client.workflow.start(pruneModel, {
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

export function pruneHandle(client: Client, workflowId: string): PruneHandle {
  return client.workflow.getHandle<typeof pruneModel>(workflowId);
}

export const queryProgress = (handle: PruneHandle): Promise<PruneProgress> => handle.query(progressQuery);
export const pausePrune = (handle: PruneHandle): Promise<void> => handle.signal(pauseSignal);
export const resumePrune = (handle: PruneHandle): Promise<void> => handle.signal(resumeSignal);
export const cancelPrune = (handle: PruneHandle): Promise<void> => handle.signal(cancelSignal);
