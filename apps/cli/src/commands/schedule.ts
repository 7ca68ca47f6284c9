import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import {
  PruneScheduleError,
  createPruneSchedule,
  deletePruneSchedule,
  describeTiming,
  listPruneSchedules,
  scheduledRunResult,
  triggerPruneSchedule,
} from '@ippro/orchestration';
import type { PruneScheduleSummary, ScheduledPruneInput, ScheduledPruneResult } from '@ippro/orchestration';
import { TEXT, combineSets, required, setting, toggle } from '@ippro/settings';
import type { Resolved } from '@ippro/settings';
import { asBadInput } from '../cli-inputs';
import { addSettings, asUsage, commandSettings } from '../command-settings';
import { UsageError } from '../exit-codes';
import { addRemoteFlags, connectTarget, remoteSettings, resolveTarget, runLink } from '../remote';
import { TARGET_SETTINGS, openRunArtifacts, storeFromSettings } from '../run-artifacts';
import type { RemoteFlags, RemoteSettingsSet, RemoteTarget } from '../remote';
import { PRUNE_INPUT_SETTINGS, RUN_INPUT_SETTINGS } from '../run-settings';
import { formatPercent, textTable } from '../text-table';
import { prepareInput, submissionOf, warnOldBudgetFlag } from './prune';
import { runConfigOf } from '../run-inputs';
import { submissionMemo } from '../run-submission';
import { printWarnings } from '../model-warnings';
import { parseTiming } from './schedule-timing';

const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A schedule's own settings; its runs take prune's run settings (it never runs here, so no --local, --wait or --run-id). */
const SCHEDULE_SETTINGS = {
  cron: setting({ parse: TEXT, placeholder: 'EXPRESSION', help: 'when to fire, as cron: "0 2 * * *" is 02:00 every day' }),
  every: setting({ parse: TEXT, placeholder: 'DURATION', help: 'fire at this interval instead: 24h, 30m, 1h30m, 7d' }),
  timezone: setting({ parse: TEXT, placeholder: 'NAME', help: 'time zone of --cron, e.g. Europe/Berlin', defaultHelp: 'UTC' }),
  out: setting({ parse: TEXT, placeholder: 'DIR', help: 'directory receiving each kept result (a new subdirectory per run, and the link latest); required' }),
  json: toggle({ help: 'print the created schedule as JSON' }),
};
const CREATE_SETTINGS = combineSets(RUN_INPUT_SETTINGS, PRUNE_INPUT_SETTINGS, SCHEDULE_SETTINGS, TARGET_SETTINGS);
type CreateSettingsSet = typeof CREATE_SETTINGS;

/** Commander settings the top-level commands get in main.ts, for the subcommands here. */
function subcommand(name: string): Command {
  return new Command(name).exitOverride().showHelpAfterError('(run with --help for usage)');
}

async function withTarget<T>(settings: Resolved<RemoteSettingsSet>, use: (client: Client, target: RemoteTarget) => Promise<T>): Promise<T> {
  const target = await resolveTarget(settings);
  const client = await connectTarget(target);
  try {
    return await use(client, target);
  } finally {
    await client.connection.close();
  }
}

/** A schedule that does not exist, or exists already: bad input. */
async function asScheduleInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PruneScheduleError) throw new UsageError(error.message);
    throw error;
  }
}

function checkScheduleId(id: string): string {
  if (!SCHEDULE_ID.test(id)) throw new UsageError(`schedule id must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), got '${id}'`);
  return id;
}

function createCommand(): Command {
  const command = addSettings(
    subcommand('create').description(
      'create a schedule that prunes the model found at --model each time it fires (cron or interval), with the run options of ' +
        "'ippro prune', and keeps the result in --out only if top-1 stays within --accuracy-budget (required). --model and --out are read " +
        "and written by the orchestrator: paths on its host ('ippro dev': this machine)",
    ),
    CREATE_SETTINGS,
  ).argument('<id>', 'schedule id, e.g. nightly');
  return command.action(async (id: string, _options: unknown, self: Command) => {
    const settings = commandSettings(self, CREATE_SETTINGS);
    const options = settings.values;
    const scheduleId = checkScheduleId(id);
    const timing = parseTiming(options);
    const [out, model] = asUsage(() => [required(settings, 'out'), required(settings, 'model')]);
    const budgetPoints = asUsage(() => required(settings, 'accuracyBudget'));
    // A run stops at the first round over the budget, unless the old --max-accuracy-drop sets its own stop.
    if (options.maxAccuracyDrop !== undefined) warnOldBudgetFlag(options.maxAccuracyDrop);
    const prepared = await prepareInput(settings, { local: false, quiet: true });
    // Each firing carries what a prune run's files show of these settings: `ippro watch FIRING --out DIR` writes them.
    const runMemo = submissionMemo(submissionOf(prepared, settings, runConfigOf(settings)));
    // The model was checked here; the id each firing prunes is that of the model found then.
    // The output kind as given: 'auto' is read again from the model found at each firing.
    const prune: ScheduledPruneInput['prune'] = { ...prepared.input, output: options.output };
    delete (prune as { modelArtifactId?: string }).modelArtifactId;
    const accuracyBudget = budgetPoints / 100;
    const input: ScheduledPruneInput = {
      scheduleId,
      modelPath: resolve(model),
      outDir: resolve(out),
      accuracyBudget,
      prune: { ...prune, maxAccuracyDrop: options.maxAccuracyDrop ?? accuracyBudget },
    };
    await withTarget(settings, async (client, target) => {
      // Datasets sent as artifacts (files, sample ranges) are uploaded once; the model is read at each firing.
      const datasets = prepared.artifacts.slice(1);
      if (datasets.length > 0) await uploadDatasets(settings, target, datasets);
      let created;
      try {
        created = await createPruneSchedule(client, { scheduleId, timing, input, taskQueue: target.taskQueue, runMemo });
      } catch (error) {
        if (!(error instanceof PruneScheduleError)) throw error;
        throw new UsageError(error.problem === 'refused' ? `${timing.kind === 'cron' ? '--cron/--timezone' : '--every'}: ${error.message}` : error.message);
      }
      printWarnings(prepared.warnings);
      const next = created.info.nextActionTimes[0];
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ scheduleId, timing: describeTiming(timing), nextActionTimes: created.info.nextActionTimes, input }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `schedule ${scheduleId} created: ${describeTiming(timing)}, next run ${next === undefined ? '-' : next.toISOString()}\n` +
          `  prunes ${input.modelPath} as found at each run; keeps results within ${budgetPoints} points of top-1 in ${input.outDir}\n`,
      );
    });
  });
}

/** Datasets that travel as artifacts go to the orchestrator's artifact service, or the shared store (`--store`). */
async function uploadDatasets(settings: Resolved<CreateSettingsSet>, target: RemoteTarget, datasets: readonly Uint8Array[]): Promise<void> {
  const artifacts = await openRunArtifacts(storeFromSettings(settings), target.artifacts);
  try {
    await asBadInput(artifacts.description, async () => {
      for (const bytes of datasets) await artifacts.put(bytes);
    });
  } finally {
    artifacts.close();
  }
}

/** One line about a finished firing. */
export function describeScheduledResult(result: ScheduledPruneResult): string {
  const drop = ((result.baselineTop1 - result.resultTop1) * 100).toFixed(2);
  const metrics = `top-1 ${formatPercent(result.resultTop1)} (${drop} points lost), ${formatPercent(result.flopsKept)} of the FLOPs`;
  return result.kept ? `kept: ${metrics}` : `not kept: ${result.resultRound === 0 ? `nothing removed (${result.stoppedBecause})` : metrics}`;
}

function lastResultText(summary: PruneScheduleSummary): string {
  const last = summary.lastRun;
  if (last === undefined) return '-';
  if (last.result !== undefined) return describeScheduledResult(last.result);
  if (last.failure !== undefined) return `failed: ${last.failure}`;
  return last.status.toLowerCase();
}

function listCommand(): Command {
  return addRemoteFlags(subcommand('list').description('list the compression schedules: id, timing, next and last run, last result'))
    .option('--json', 'print the schedules as JSON')
    .action(async (flags: RemoteFlags & { json?: boolean }) => {
      await withTarget(remoteSettings(flags), async (client) => {
        const schedules = await listPruneSchedules(client);
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(schedules, null, 2)}\n`);
          return;
        }
        if (schedules.length === 0) {
          process.stdout.write('no schedules\n');
          return;
        }
        const rows = schedules.map((schedule) => [
          schedule.scheduleId,
          `${schedule.timing}${schedule.paused ? ' (paused)' : ''}`,
          schedule.nextActionTimes[0]?.toISOString() ?? '-',
          schedule.lastRun?.takenAt.toISOString() ?? '-',
          lastResultText(schedule),
        ]);
        process.stdout.write(`${textTable(['schedule', 'when', 'next run', 'last run', 'last result'], rows)}\n`);
      });
    });
}

function deleteCommand(): Command {
  return addRemoteFlags(subcommand('delete').description('delete a schedule (a run it already started keeps running)').argument('<id>', 'schedule id'))
    .option('--json', 'print { scheduleId, deleted } as JSON')
    .action(async (id: string, flags: RemoteFlags & { json?: boolean }) => {
      await withTarget(remoteSettings(flags), async (client) => {
        await asScheduleInput(() => deletePruneSchedule(client, id));
        process.stdout.write(flags.json === true ? `${JSON.stringify({ scheduleId: id, deleted: true })}\n` : `schedule ${id} deleted\n`);
      });
    });
}

function triggerCommand(): Command {
  return addRemoteFlags(
    subcommand('trigger')
      .description('fire a schedule now (skipped while a run it started is still running); prints the run id')
      .argument('<id>', 'schedule id'),
  )
    .option('--wait', 'wait for the run and print what it kept (exit 1 when it failed)')
    .option('--json', 'print { runId, result } as JSON')
    .action(async (id: string, flags: RemoteFlags & { wait?: boolean; json?: boolean }) => {
      await withTarget(remoteSettings(flags), async (client, target) => {
        const runId = await asScheduleInput(() => triggerPruneSchedule(client, id));
        const ui = runLink(target, runId);
        if (ui !== undefined && flags.json !== true) process.stderr.write(`Temporal UI: ${ui}\n`);
        const result = flags.wait === true ? await scheduledRunResult(client, runId) : undefined;
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify({ runId, ...(ui === undefined ? {} : { ui }), ...(result === undefined ? {} : { result }) }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${runId}\n`);
        if (result !== undefined) process.stdout.write(`${describeScheduledResult(result)}${result.keptDir === undefined ? '' : ` -> ${result.keptDir}`}\n  ${result.reason}\n`);
      });
    });
}

export function scheduleCommand(): Command {
  return new Command('schedule')
    .description('scheduled compression with Temporal Schedules: create, list, trigger, delete')
    .addCommand(createCommand())
    .addCommand(listCommand())
    .addCommand(triggerCommand())
    .addCommand(deleteCommand());
}
