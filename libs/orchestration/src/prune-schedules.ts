import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client, ScheduleDescription, ScheduleExecutionResult, ScheduleSpec } from '@temporalio/client';
import { scheduledPrune } from '@ippro/workflows';
import type { ScheduledPruneInput, ScheduledPruneResult } from '@ippro/workflows';
import { DEFAULT_TASK_QUEUE } from '@ippro/temporal-connection';

/** When a compression schedule fires: a cron expression (5 fields) or a fixed interval. */
export type ScheduleTiming = { kind: 'cron'; expression: string; timezone?: string } | { kind: 'every'; every: string; milliseconds: number };

/** What a schedule records about itself (its memo), for `list`. */
export interface PruneScheduleMemo {
  timing: string;
  modelPath: string;
  outDir: string;
  accuracyBudget: number;
  taskQueue: string;
}

/** The workflow ids a schedule's firings get: this prefix, the schedule id, then the firing time (added by Temporal). */
export const SCHEDULED_RUN_PREFIX = 'scheduled-';
const MEMO_KEY = 'ippro';

/** Why a schedule operation was refused: the id is taken or unknown, Temporal refused the spec, a firing was skipped. */
export type PruneScheduleProblem = 'exists' | 'not-found' | 'not-a-compression-schedule' | 'refused' | 'skipped';

/** A schedule operation refused for its input (nothing changed). */
export class PruneScheduleError extends Error {
  override readonly name = 'PruneScheduleError';

  constructor(
    readonly problem: PruneScheduleProblem,
    message: string,
  ) {
    super(message);
  }
}

export function describeTiming(timing: ScheduleTiming): string {
  if (timing.kind === 'every') return `every ${timing.every}`;
  return `cron "${timing.expression}"${timing.timezone === undefined ? '' : ` (${timing.timezone})`}`;
}

function specOf(timing: ScheduleTiming): ScheduleSpec {
  if (timing.kind === 'every') return { intervals: [{ every: timing.milliseconds }] };
  return { cronExpressions: [timing.expression], ...(timing.timezone === undefined ? {} : { timezone: timing.timezone }) };
}

export interface CreatePruneScheduleOptions {
  scheduleId: string;
  timing: ScheduleTiming;
  input: ScheduledPruneInput;
  taskQueue?: string;
  /** The memo each firing starts with (what the schedule's author recorded for the firings' results). */
  runMemo?: Record<string, unknown>;
}

/**
 * Creates a Temporal Schedule whose every firing starts a scheduledPrune workflow. A firing
 * while the previous one still runs is skipped. Throws PruneScheduleError when the id is taken.
 */
export async function createPruneSchedule(client: Client, options: CreatePruneScheduleOptions): Promise<ScheduleDescription> {
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const memo: PruneScheduleMemo = {
    timing: describeTiming(options.timing),
    modelPath: options.input.modelPath,
    outDir: options.input.outDir,
    accuracyBudget: options.input.accuracyBudget,
    taskQueue,
  };
  try {
    const handle = await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: specOf(options.timing),
      action: {
        type: 'startWorkflow',
        workflowType: scheduledPrune,
        args: [options.input],
        taskQueue,
        workflowId: `${SCHEDULED_RUN_PREFIX}${options.scheduleId}`,
        ...(options.runMemo === undefined ? {} : { memo: options.runMemo }),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: { [MEMO_KEY]: memo },
    });
    return await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) throw new PruneScheduleError('exists', `a schedule '${options.scheduleId}' already exists; delete it first or choose another id`);
    // The SDK turns the server's INVALID_ARGUMENT (a cron field out of range, an unknown time zone) into a TypeError.
    if (error instanceof TypeError) throw new PruneScheduleError('refused', `Temporal refused the schedule: ${error.message}`);
    throw error;
  }
}

/** How the latest firing went. */
export interface LastScheduledRun {
  workflowId: string;
  scheduledAt: Date;
  takenAt: Date;
  /** The workflow's status: RUNNING, COMPLETED, FAILED, ... */
  status: string;
  result?: ScheduledPruneResult;
  failure?: string;
}

export interface PruneScheduleSummary {
  scheduleId: string;
  /** `cron "0 2 * * *"` or `every 24h`. */
  timing: string;
  paused: boolean;
  modelPath: string;
  outDir: string;
  accuracyBudget: number;
  nextActionTimes: Date[];
  actionsTaken: number;
  lastRun?: LastScheduledRun;
}

/** The innermost message of a failure chain (WorkflowFailedError says only "Workflow execution failed"). */
function rootMessage(error: unknown): string {
  let cause: unknown = error;
  while ((cause as { cause?: unknown }).cause instanceof Error) cause = (cause as { cause: Error }).cause;
  return cause instanceof Error ? cause.message : String(cause);
}

async function lastRunOf(client: Client, action: ScheduleExecutionResult): Promise<LastScheduledRun> {
  const { workflowId, firstExecutionRunId } = action.action.workflow;
  const handle = client.workflow.getHandle<typeof scheduledPrune>(workflowId, firstExecutionRunId);
  const base = { workflowId, scheduledAt: action.scheduledAt, takenAt: action.takenAt };
  const status = (await handle.describe()).status.name;
  if (status === 'COMPLETED') return { ...base, status, result: await handle.result() };
  if (status === 'FAILED') {
    const failure = await handle.result().then(
      () => 'failed',
      (error: unknown) => rootMessage(error),
    );
    return { ...base, status, failure };
  }
  return { ...base, status };
}

function summaryOf(scheduleId: string, description: ScheduleDescription): Omit<PruneScheduleSummary, 'lastRun'> {
  const memo = (description.memo?.[MEMO_KEY] ?? {}) as Partial<PruneScheduleMemo>;
  return {
    scheduleId,
    timing: memo.timing ?? '?',
    paused: description.state.paused,
    modelPath: memo.modelPath ?? '?',
    outDir: memo.outDir ?? '?',
    accuracyBudget: memo.accuracyBudget ?? Number.NaN,
    nextActionTimes: description.info.nextActionTimes,
    actionsTaken: description.info.numActionsTaken,
  };
}

/** One compression schedule, with how its latest firing went. Throws PruneScheduleError when there is none. */
export async function describePruneSchedule(client: Client, scheduleId: string): Promise<PruneScheduleSummary> {
  let description: ScheduleDescription;
  try {
    description = await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new PruneScheduleError('not-found', `no schedule '${scheduleId}'`);
    throw error;
  }
  if (description.action.workflowType !== scheduledPrune.name) throw new PruneScheduleError('not-a-compression-schedule', `schedule '${scheduleId}' is not a compression schedule (it starts ${description.action.workflowType})`);
  const last = description.info.recentActions.at(-1);
  return { ...summaryOf(scheduleId, description), ...(last === undefined ? {} : { lastRun: await lastRunOf(client, last) }) };
}

/** Every compression schedule of the namespace (schedules that start other workflows are left out), by id. */
export async function listPruneSchedules(client: Client): Promise<PruneScheduleSummary[]> {
  const ids: string[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.action?.workflowType === scheduledPrune.name) ids.push(schedule.scheduleId);
  }
  ids.sort();
  const summaries: PruneScheduleSummary[] = [];
  // Described one by one: the list comes from the visibility store, which lags behind (a schedule
  // deleted a moment ago may still be listed: it is left out).
  for (const id of ids) {
    const summary = await describePruneSchedule(client, id).catch((error: unknown) => {
      if (error instanceof PruneScheduleError) return undefined;
      throw error;
    });
    if (summary !== undefined) summaries.push(summary);
  }
  return summaries;
}

/** Deletes a compression schedule (firings already started run on). Throws PruneScheduleError when there is none. */
export async function deletePruneSchedule(client: Client, scheduleId: string): Promise<void> {
  await describePruneSchedule(client, scheduleId);
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new PruneScheduleError('not-found', `no schedule '${scheduleId}'`);
    throw error;
  }
}

/**
 * Fires a schedule now and returns the started workflow's id once the schedule records it. Like
 * a timed firing, it is skipped while a run the schedule started is still running (PruneScheduleError).
 */
export async function triggerPruneSchedule(client: Client, scheduleId: string, timeoutMs = 30_000): Promise<string> {
  await describePruneSchedule(client, scheduleId);
  const handle = client.schedule.getHandle(scheduleId);
  const before = (await handle.describe()).info;
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = (await handle.describe()).info;
    const last = now.recentActions.at(-1);
    if (now.numActionsTaken > before.numActionsTaken && last !== undefined) return last.action.workflow.workflowId;
    if (now.numActionsSkippedOverlap > before.numActionsSkippedOverlap) {
      const running = now.runningActions.map((action) => action.workflow.workflowId).join(', ');
      throw new PruneScheduleError('skipped', `schedule '${scheduleId}' did not fire: the run it started before (${running}) is still running`);
    }
    if (Date.now() > deadline) throw new Error(`schedule '${scheduleId}' did not start a run within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits for a firing's workflow and returns its result (throws the failure's own message). */
export async function scheduledRunResult(client: Client, workflowId: string): Promise<ScheduledPruneResult> {
  try {
    return await client.workflow.getHandle<typeof scheduledPrune>(workflowId).result();
  } catch (error) {
    throw new Error(`scheduled run ${workflowId} failed: ${rootMessage(error)}`, { cause: error });
  }
}
