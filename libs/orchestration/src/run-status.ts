import { WorkflowNotFoundError, defaultPayloadConverter } from '@temporalio/client';
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo, WorkflowExecutionStatusName } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { CompareProgress } from '@ippro/compare';
import { liveProgress, liveTasks, scheduledPruneRunId } from '@ippro/workflow-core';
import type { LiveProgress, LiveTask, PruneProgress, RunningWork } from '@ippro/workflow-core';
import { compareCriteria, pruneModel, scheduledPrune } from '@ippro/workflows';
import { cancelPrune, pausePrune, pruneHandle, queryProgress, resumePrune } from './prune-client';
import { compareHandle, queryCompareProgress } from './compare-client';

/** The kinds of run there are: a prune run, a comparison of criteria, a scheduled firing (a prune run as its child). */
export type RunKind = 'prune' | 'compare' | 'scheduled';

const KIND_OF_WORKFLOW_TYPE: Readonly<Record<string, RunKind>> = {
  [pruneModel.name]: 'prune',
  [compareCriteria.name]: 'compare',
  [scheduledPrune.name]: 'scheduled',
};

/** A run id that names no run, or a workflow that is not a run of ours; the message says which. */
export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
}

/** A request a run cannot take (pausing a comparison, resuming a finished run); the message says why. */
export class RunControlError extends Error {
  override readonly name = 'RunControlError';
}

export interface RunDescription {
  runId: string;
  kind: RunKind;
  status: WorkflowExecutionStatusName;
  startTime: Date;
  closeTime?: Date;
  description: WorkflowExecutionDescription;
}

/** The latest run of a workflow id (a prune run's continue-as-new chain ends there). Throws RunNotFoundError. */
export async function describeRun(client: Client, runId: string): Promise<RunDescription> {
  let description: WorkflowExecutionDescription;
  try {
    description = await client.workflow.getHandle(runId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new RunNotFoundError(`no run '${runId}'`);
    throw error;
  }
  const kind = KIND_OF_WORKFLOW_TYPE[description.type];
  if (kind === undefined) throw new RunNotFoundError(`'${runId}' is a '${description.type}' workflow, not a prune, compare or scheduled run`);
  return {
    runId,
    kind,
    status: description.status.name,
    startTime: description.startTime,
    ...(description.closeTime === undefined ? {} : { closeTime: description.closeTime }),
    description,
  };
}

/** The pruneModel run that does a run's pruning: the run itself, a scheduled firing's child, none for a comparison. */
export function pruneRunIdOf(run: Pick<RunDescription, 'runId' | 'kind'>): string | undefined {
  if (run.kind === 'prune') return run.runId;
  if (run.kind === 'scheduled') return scheduledPruneRunId(run.runId);
  return undefined;
}

function timestampMs(time: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined): number | undefined {
  if (time === null || time === undefined) return undefined;
  return Number(String(time.seconds ?? 0)) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

function numberField(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * The compute activities a run is running now, from its pending activities' latest heartbeat
 * details ({ done, total, samples, worker }). An activity waiting to be retried still holds the
 * failed attempt's details: only started ones count.
 */
export function runningWorkOf(description: WorkflowExecutionDescription): RunningWork[] {
  const started = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  return (description.raw.pendingActivities ?? []).flatMap((pending): RunningWork[] => {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    const activity = pending.activityType?.name;
    if (pending.state !== started || payload === undefined || activity === undefined || activity === null) return [];
    let details: Record<string, unknown>;
    try {
      details = defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload) ?? {};
    } catch {
      return [];
    }
    const startedAt = timestampMs(pending.lastStartedTime);
    const worker = details['worker'];
    return [
      {
        activity,
        done: numberField(details['done']),
        total: numberField(details['total']),
        samples: numberField(details['samples']),
        ...(typeof worker === 'string' ? { worker } : {}),
        ...(startedAt === undefined ? {} : { startedAt }),
      },
    ];
  });
}

/** A prune run's `progress` query and its live progress (the query with its running activities' heartbeats). */
export interface PruneRunProgress {
  progress: PruneProgress;
  live: LiveProgress;
}

/** Queries a prune run and reads its pending activities; undefined when the run does not answer (not started, or gone). */
export async function pruneRunProgressOf(client: Client, pruneRunId: string, now: () => number = Date.now): Promise<PruneRunProgress | undefined> {
  const handle = pruneHandle(client, pruneRunId);
  try {
    const [progress, description] = await Promise.all([queryProgress(handle), handle.describe()]);
    return { progress, live: liveProgress(progress, description.status.name === 'RUNNING' ? runningWorkOf(description) : [], now()) };
  } catch {
    return undefined;
  }
}

/** A comparison's progress query and its running activities. */
export interface CompareRunProgress {
  progress: CompareProgress;
  running: LiveTask[];
}

export async function compareRunProgressOf(client: Client, runId: string, now: () => number = Date.now): Promise<CompareRunProgress | undefined> {
  const handle = compareHandle(client, runId);
  try {
    const [progress, description] = await Promise.all([queryCompareProgress(handle), handle.describe()]);
    return { progress, running: liveTasks(description.status.name === 'RUNNING' ? runningWorkOf(description) : [], now()) };
  } catch {
    return undefined;
  }
}

export type RunAction = 'pause' | 'resume' | 'cancel';

/**
 * Pauses, resumes or cancels a running run. A prune run takes its signals (at the next round
 * boundary); a scheduled firing passes them to its prune run; a comparison has no rounds, so it
 * cannot pause, and cancelling cancels its workflow (its activities stop at their next heartbeat).
 * Throws RunControlError when the run cannot take the request. Returns the id that received it.
 */
export async function controlRun(client: Client, run: RunDescription, action: RunAction): Promise<string> {
  if (run.kind === 'compare' && action !== 'cancel') throw new RunControlError(`run '${run.runId}' is a comparison: it has no round boundaries to ${action} at (cancel stops it)`);
  if (run.status !== 'RUNNING') throw new RunControlError(`run '${run.runId}' is not running (${run.status})`);
  if (run.kind === 'compare') {
    await compareHandle(client, run.runId).cancel();
    return run.runId;
  }
  const target = pruneRunIdOf(run) as string;
  if (run.kind === 'scheduled') {
    const child = await describeRun(client, target).catch(() => undefined);
    if (child?.status !== 'RUNNING') throw new RunControlError(`scheduled run '${run.runId}' is not pruning now (its prune run ${target} is ${child?.status.toLowerCase() ?? 'not started'})`);
  }
  const handle = pruneHandle(client, target);
  await (action === 'pause' ? pausePrune(handle) : action === 'resume' ? resumePrune(handle) : cancelPrune(handle));
  return target;
}

/** One row of the run list. */
export interface RunListing {
  runId: string;
  kind: RunKind;
  status: WorkflowExecutionStatusName;
  startTime: Date;
  closeTime?: Date;
}

/**
 * The latest `limit` runs of every kind, newest first: one row per run id (a prune run's
 * continue-as-new chain is one run). A scheduled firing's prune run is its firing's row.
 */
export async function listRuns(client: Client, limit: number): Promise<RunListing[]> {
  const query = Object.keys(KIND_OF_WORKFLOW_TYPE)
    .map((type) => `WorkflowType = '${type}'`)
    .join(' OR ');
  const latest = new Map<string, RunListing>();
  for await (const execution of client.workflow.list({ query })) {
    if (latest.size >= limit) break;
    if (latest.has(execution.workflowId) || isScheduledChild(execution)) continue;
    latest.set(execution.workflowId, {
      runId: execution.workflowId,
      kind: KIND_OF_WORKFLOW_TYPE[execution.type] as RunKind,
      status: execution.status.name,
      startTime: execution.startTime,
      ...(execution.closeTime === undefined ? {} : { closeTime: execution.closeTime }),
    });
  }
  return [...latest.values()];
}

function isScheduledChild(execution: WorkflowExecutionInfo): boolean {
  const parent = execution.parentExecution?.workflowId;
  return typeof parent === 'string' && execution.workflowId === scheduledPruneRunId(parent);
}

/** A run's page in the Temporal Web UI at `uiUrl` (it opens the latest run of the id's chain); without `runId`, the namespace's list of runs. */
export function temporalUiLink(uiUrl: string, namespace: string, runId?: string): string {
  const runs = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows`;
  return runId === undefined ? runs : `${runs}/${encodeURIComponent(runId)}`;
}
