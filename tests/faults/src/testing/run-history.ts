import type { Client } from '@temporalio/client';

/** What the Temporal histories of a run (all its continue-as-new runs) say about retries. */
export interface RetrySummary {
  /** Continue-as-new runs of the workflow id. */
  runs: number;
  /** Activities that completed. */
  activities: number;
  /** Activities that needed more than one attempt, as "<activity type> attempt <n>". */
  retried: string[];
}

/** Reads every history of `workflowId` and lists the activities that needed more than one attempt. */
export async function retrySummary(client: Client, workflowId: string): Promise<RetrySummary> {
  const summary: RetrySummary = { runs: 0, activities: 0, retried: [] };
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    summary.runs += 1;
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    const typeOf = new Map<string, string>();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? '?');
      const started = event.activityTaskStartedEventAttributes;
      if (started) {
        summary.activities += 1;
        if ((started.attempt ?? 1) > 1) summary.retried.push(`${typeOf.get(String(started.scheduledEventId)) ?? '?'} attempt ${started.attempt}`);
      }
    }
  }
  return summary;
}
