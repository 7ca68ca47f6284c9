import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** Bytes of payload data (every `data` byte array) inside one history event. */
export function eventPayloadBytes(event: unknown): number {
  let total = 0;
  const visit = (value: unknown, key: string | undefined): void => {
    if (value instanceof Uint8Array) {
      if (key === 'data') total += value.byteLength;
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) visit(item, key);
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) visit(item, name);
    }
  };
  visit(event, undefined);
  return total;
}

export interface HistorySizeReport {
  runs: number;
  events: number;
  /** The largest payload total of one event, and its type (e.g. EVENT_TYPE_WORKFLOW_EXECUTION_STARTED). */
  largestEventPayloadBytes: number;
  largestEventType: string;
  /** The largest whole history (one run) in payload bytes. */
  largestRunPayloadBytes: number;
}

/** Measures the payloads in every run of a workflow id (each continue-as-new is a run). */
export async function measureWorkflowHistories(client: Client, workflowId: string): Promise<HistorySizeReport> {
  const report: HistorySizeReport = { runs: 0, events: 0, largestEventPayloadBytes: 0, largestEventType: '', largestRunPayloadBytes: 0 };
  for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await client.workflow.getHandle(workflowId, info.runId).fetchHistory();
    report.runs += 1;
    let runBytes = 0;
    for (const event of history.events ?? []) {
      report.events += 1;
      const bytes = eventPayloadBytes(event);
      runBytes += bytes;
      if (bytes > report.largestEventPayloadBytes) {
        report.largestEventPayloadBytes = bytes;
        report.largestEventType = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
      }
    }
    report.largestRunPayloadBytes = Math.max(report.largestRunPayloadBytes, runBytes);
  }
  return report;
}
