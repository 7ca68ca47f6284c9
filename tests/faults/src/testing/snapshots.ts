import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Client } from '@temporalio/client';

/** What a bad input must leave as it was: files (path -> sha256) and runs (workflow/run id -> status and history length). */
export interface WorldSnapshot {
  files: Record<string, string>;
  runs: Record<string, { status: string; historyLength: number }>;
}

/** Every file under `dirs` (recursively), keyed by its path, with the sha256 of its bytes. */
export function fileDigests(dirs: readonly string[]): Record<string, string> {
  const digests: Record<string, string> = {};
  const walk = (root: string, dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(root, path);
      else digests[`${root}:${relative(root, path)}`] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  for (const dir of dirs) if (existsSync(dir)) walk(dir, dir);
  return digests;
}

/**
 * Every execution Temporal lists (continue-as-new runs included), each described from its own
 * state (the list itself may lag a moment behind).
 */
export async function runDigests(client: Client): Promise<WorldSnapshot['runs']> {
  const runs: WorldSnapshot['runs'] = {};
  for await (const execution of client.workflow.list()) {
    const described = await client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    runs[`${execution.workflowId}/${execution.runId}`] = { status: described.status.name, historyLength: described.historyLength };
  }
  return runs;
}

/** Waits until Temporal's list shows a run of `workflowId` (visibility lags the run by a moment). */
export async function untilListed(client: Client, workflowId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) if (execution.workflowId === workflowId) return;
    if (Date.now() > deadline) throw new Error(`run ${workflowId} is not listed after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function snapshot(client: Client, dirs: readonly string[]): Promise<WorldSnapshot> {
  return { files: fileDigests(dirs), runs: await runDigests(client) };
}

/**
 * Nothing that existed changed: the same files with the same bytes (and no new ones), the same
 * runs in the same state. A new run is allowed only when it failed (a workflow input refused by
 * the workflow itself) and only when `newFailedRuns` says so.
 */
export function assertUnchanged(before: WorldSnapshot, after: WorldSnapshot, newFailedRuns = 0): void {
  assert.deepEqual(after.files, before.files, 'files changed');
  const added = Object.keys(after.runs).filter((key) => before.runs[key] === undefined);
  const kept = Object.fromEntries(Object.entries(after.runs).filter(([key]) => before.runs[key] !== undefined));
  assert.deepEqual(kept, before.runs, 'an existing run changed');
  assert.equal(added.length, newFailedRuns, `new runs: ${added.join(', ')}`);
  for (const key of added) assert.equal(after.runs[key]?.status, 'FAILED', `the new run ${key} did not fail`);
}
