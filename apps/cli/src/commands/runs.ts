import { Command } from 'commander';
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { cancelPrune, pruneHandle, queryProgress } from '@ippro/orchestration';
import type { PruneProgress } from '@ippro/workflow-core';
import { isPositiveInteger, parseNumberFlag } from '../cli-inputs';
import { UsageError } from '../exit-codes';
import { addRemoteFlags, connectTarget, remoteSettings, resolveTarget } from '../remote';
import type { RemoteFlags } from '../remote';
import { describeProgress, followRun, renderResult, roundsTable } from '../run-view';
import { textTable } from '../text-table';

/** Connects to the stack named by the flags, runs `use`, closes the connection. */
async function withClient<T>(flags: RemoteFlags, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectTarget(await resolveTarget(remoteSettings(flags)));
  try {
    return await use(client);
  } finally {
    await client.connection.close();
  }
}

/** The latest run of a workflow id, or a UsageError naming the id. */
async function describeRun(client: Client, runId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await pruneHandle(client, runId).describe();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') throw new UsageError(`no run '${runId}'`);
    throw error;
  }
}

interface StatusFlags extends RemoteFlags {
  json?: boolean;
}

export function statusCommand(): Command {
  return addRemoteFlags(new Command('status').description('show a run: status, phase, round and the per-round table').argument('<run>', 'run id (workflow id)'))
    .option('--json', 'print { runId, status, progress } as JSON')
    .action(async (runId: string, flags: StatusFlags) => {
      await withClient(flags, async (client) => {
        const description = await describeRun(client, runId);
        const progress = await queryProgress(pruneHandle(client, runId)).catch(() => undefined);
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify({ runId, status: description.status.name, startTime: description.startTime, progress: progress ?? null }, null, 2)}\n`);
          return;
        }
        const lines = [`run ${runId}: ${description.status.name}`];
        if (progress !== undefined) {
          lines.push(`  ${describeProgress(progress)}${progress.stoppedBecause === undefined ? '' : `, stopped: ${progress.stoppedBecause}`}`);
          if (progress.baseline !== undefined) lines.push(roundsTable(progress.baseline, progress.history, progress.output));
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}

export function watchCommand(): Command {
  return addRemoteFlags(new Command('watch').description('follow a run live: progress bars and the per-round table, until it ends').argument('<run>', 'run id (workflow id)')).action(
    async (runId: string, flags: RemoteFlags) => {
      await withClient(flags, async (client) => {
        await describeRun(client, runId);
        const result = await followRun(pruneHandle(client, runId), (text) => process.stdout.write(text));
        process.stdout.write(renderResult(result));
      });
    },
  );
}

export function cancelCommand(): Command {
  return addRemoteFlags(
    new Command('cancel').description('cancel a run at the next round boundary (the round in progress finishes; the result is the last finished round)').argument('<run>', 'run id (workflow id)'),
  )
    .option('--wait', 'wait until the run has stopped')
    .action(async (runId: string, flags: RemoteFlags & { wait?: boolean }) => {
      await withClient(flags, async (client) => {
        const description = await describeRun(client, runId);
        if (description.status.name !== 'RUNNING') throw new UsageError(`run '${runId}' is not running (${description.status.name})`);
        const handle = pruneHandle(client, runId);
        await cancelPrune(handle);
        process.stdout.write(`run ${runId}: cancel requested; it stops at the next round boundary\n`);
        if (flags.wait === true) {
          const result = await handle.result();
          process.stdout.write(`run ${runId}: stopped (${result.stoppedBecause}), result = round ${result.resultRound}\n`);
        }
      });
    });
}

interface RunsFlags extends RemoteFlags {
  limit: string;
  json?: boolean;
}

export function runsCommand(): Command {
  return addRemoteFlags(new Command('runs').description('list recent pruneModel runs with their status'))
    .option('--limit <n>', 'runs to show', '20')
    .option('--json', 'print the list as JSON')
    .action(async (flags: RunsFlags) => {
      const limit = parseNumberFlag('--limit', flags.limit, isPositiveInteger, 'a positive integer');
      await withClient(flags, async (client) => {
        // One row per workflow id: its latest run (continue-as-new makes one run per round).
        const latest = new Map<string, WorkflowExecutionInfo>();
        for await (const execution of client.workflow.list({ query: "WorkflowType = 'pruneModel'" })) {
          if (!latest.has(execution.workflowId)) latest.set(execution.workflowId, execution);
          if (latest.size >= limit) break;
        }
        const runs = [...latest.values()].slice(0, limit);
        const progressOf = async (execution: WorkflowExecutionInfo): Promise<PruneProgress | undefined> =>
          execution.status.name === 'RUNNING' || execution.status.name === 'COMPLETED'
            ? queryProgress(pruneHandle(client, execution.workflowId)).catch(() => undefined)
            : undefined;
        const rows = await Promise.all(
          runs.map(async (execution) => {
            const progress = await progressOf(execution);
            return {
              runId: execution.workflowId,
              status: execution.status.name,
              started: execution.startTime.toISOString(),
              round: progress === undefined ? null : progress.round,
              rounds: progress === undefined ? null : progress.rounds,
              phase: progress?.phase ?? null,
              stoppedBecause: progress?.stoppedBecause ?? null,
            };
          }),
        );
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no runs\n');
          return;
        }
        const table = textTable(
          ['run', 'status', 'started', 'round', 'phase'],
          rows.map((row) => [row.runId, row.status, row.started, row.round === null ? '-' : `${row.round}/${row.rounds}`, row.stoppedBecause ?? row.phase ?? '-']),
        );
        process.stdout.write(`${table}\n`);
      });
    });
}
