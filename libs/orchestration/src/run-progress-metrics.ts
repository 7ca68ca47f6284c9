import type { Client } from '@temporalio/client';
import { recentRuns, recordRunsProgress, setRunProgressSource } from '@ippro/telemetry';
import { connectTemporalClient } from '@ippro/temporal-connection';
import type { TemporalTarget } from '@ippro/temporal-connection';
import type { LiveProgress } from '@ippro/workflow-core';
import { pruneRunProgressOf } from './run-status';

/** How long a run with no activity in this process stays in the run gauges (a paused run drops out after it). */
const QUIET_RUN_MS = 60_000;

/** The live progress of the prune runs with recent activities here (comparisons and scheduled firings answer no `progress` query). */
async function recordRecentRuns(client: Client): Promise<void> {
  const read = await Promise.all(recentRuns(QUIET_RUN_MS).map(async (runId) => [runId, (await pruneRunProgressOf(client, runId))?.live] as const));
  recordRunsProgress(read.filter((entry): entry is readonly [string, LiveProgress] => entry[1] !== undefined));
}

/**
 * Fills the run gauges (@ippro/telemetry's runProgressMetrics) at each scrape, from the runs'
 * `progress` queries and pending activities, through a client connected on the first scrape.
 * Returns the function that stops it.
 */
export function serveRunProgressMetrics(target: TemporalTarget): () => Promise<void> {
  let client: Promise<Client> | undefined;
  setRunProgressSource(async () => {
    client ??= connectTemporalClient(target).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    await recordRecentRuns(await client);
  });
  return async () => {
    setRunProgressSource(undefined);
    await (await client?.catch(() => undefined))?.connection.close();
  };
}
