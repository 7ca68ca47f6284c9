import { defaultPayloadConverter } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { CompareInput } from '@ippro/compare';
import type { PruneWorkflowInput } from '@ippro/workflow-core';
import { RunNotFoundError } from './run-status';

/**
 * The input a run's latest execution started with: the first payload of its start event. Read
 * from the history, because no query answers after a run has closed. Throws RunNotFoundError
 * when the history holds none.
 */
export async function startInputOf(client: Client, runId: string): Promise<unknown> {
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (payload === undefined || payload === null) throw new RunNotFoundError(`run ${runId}: its history holds no input`);
  return defaultPayloadConverter.fromPayload(payload);
}

/**
 * The input a prune run was started with. Every round continues as new with that input plus the
 * rounds so far (`carry`); without `carry` it is the input its starter gave, field for field.
 */
export async function pruneRunInputOf(client: Client, runId: string): Promise<PruneWorkflowInput> {
  const input = { ...((await startInputOf(client, runId)) as PruneWorkflowInput) };
  delete input.carry;
  return input;
}

/** The input a comparison was started with (it never continues as new). */
export async function compareRunInputOf(client: Client, runId: string): Promise<CompareInput> {
  return (await startInputOf(client, runId)) as CompareInput;
}
