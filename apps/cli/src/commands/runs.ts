import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { STORE_SETTINGS } from '@ippro/artifact-store';
import {
  RunControlError,
  RunNotFoundError,
  compareHandle,
  compareRunProgressOf,
  controlRun,
  describeRun,
  listRuns,
  pruneHandle,
  pruneRunIdOf,
  pruneRunProgressOf,
  scheduledRunResult,
} from '@ippro/orchestration';
import type { CompareRunProgress, PruneRunProgress, RunAction, RunDescription, RunListing } from '@ippro/orchestration';
import { TEXT, addSettingOptions, combineSets, resolveSettings, setting, toggle } from '@ippro/settings';
import type { GivenFlags, Resolved, SettingSet } from '@ippro/settings';
import type { PruneWorkflowResult } from '@ippro/workflow-core';
import { checkOutputDir, isPositiveInteger, parseNumberFlag } from '../cli-inputs';
import { asUsage } from '../command-settings';
import { UsageError } from '../exit-codes';
import { PROGRESS_SETTINGS, compareProgressLines, pruneProgressLines } from '../progress-view';
import type { ProgressViewOptions } from '../progress-view';
import { REMOTE_SETTINGS, connectTarget, resolveTarget, runLink } from '../remote';
import type { RemoteTarget } from '../remote';
import { followComparison, followRun, renderResult, roundsTable } from '../run-view';
import { openRunArtifacts, storeFromSettings } from '../run-artifacts';
import { endedWithoutResult, prepareWatchOutput, writeWatchedComparison, writeWatchedPrune } from '../watch-output';
import type { WatchOutput } from '../watch-output';
import { textTable } from '../text-table';
import { screenTable } from './compare';
import { describeScheduledResult } from './schedule';

const JSON_SETTINGS = { json: toggle({ help: 'print the answer as JSON on stdout' }) };
const CONTROL_SETTINGS = combineSets(REMOTE_SETTINGS, JSON_SETTINGS);
const STATUS_SETTINGS = combineSets(CONTROL_SETTINGS, { verbose: PROGRESS_SETTINGS.verbose });
const RUN_SETTINGS = combineSets(CONTROL_SETTINGS, PROGRESS_SETTINGS);
/** `watch --out`: where the result goes, the store it is read from, and the backend of the report's scores. */
const WATCH_OUT_SETTINGS = combineSets(STORE_SETTINGS, {
  out: setting({
    parse: TEXT,
    placeholder: 'DIR',
    help: "new directory that receives the run's result when it completes, as the submitting 'ippro prune' or 'ippro compare' writes its --out (a scheduled firing: its prune run's)",
  }),
  backend: setting({ parse: TEXT, placeholder: 'NAME', help: "with --out: the tfjs backend of this process, for the report's scores", defaultHelp: "the submitting command's, else auto" }),
});
const WATCH_SETTINGS = combineSets(RUN_SETTINGS, WATCH_OUT_SETTINGS);
type Flags = GivenFlags;

/** Every setting a run command may take, resolved from the ones it was given (the others take their defaults). */
function settingsOf(flags: Flags): Resolved<typeof RUN_SETTINGS> {
  return asUsage(() => resolveSettings(RUN_SETTINGS, { flags, env: process.env }));
}

/** Connects to the stack named by the flags, runs `use`, closes the connection. */
async function withClient<T>(flags: Flags, use: (client: Client, target: RemoteTarget) => Promise<T>): Promise<T> {
  const target = await resolveTarget(settingsOf(flags));
  const client = await connectTarget(target);
  try {
    return await use(client, target);
  } finally {
    await client.connection.close();
  }
}

/** Unknown runs and requests a run cannot take are bad input. */
async function asRunInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RunNotFoundError || error instanceof RunControlError) throw new UsageError(error.message);
    throw error;
  }
}

function runCommand(name: string, description: string, set: SettingSet = CONTROL_SETTINGS): Command {
  return addSettingOptions(new Command(name).description(description), set);
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`);
}

/** The link line printed under a run, when the UI's address is known. */
function linkLine(target: RemoteTarget, runId: string): string[] {
  const link = runLink(target, runId);
  return link === undefined ? [] : [`  Temporal UI: ${link}`];
}

interface RunState {
  run: Pick<RunDescription, 'runId' | 'kind'>;
  /** The prune run behind it (a scheduled firing's child), when it has one. */
  pruneRunId?: string;
  prune?: PruneRunProgress;
  compare?: CompareRunProgress;
}

async function stateOf(client: Client, run: Pick<RunDescription, 'runId' | 'kind'>): Promise<RunState> {
  if (run.kind === 'compare') {
    const compare = await compareRunProgressOf(client, run.runId);
    return { run, ...(compare === undefined ? {} : { compare }) };
  }
  const pruneRunId = pruneRunIdOf(run) as string;
  const prune = await pruneRunProgressOf(client, pruneRunId);
  return { run, pruneRunId, ...(prune === undefined ? {} : { prune }) };
}

export function statusCommand(): Command {
  return runCommand('status', 'show a run (prune, compare or scheduled): status, phase and progress with rate and ETA, the per-round table', STATUS_SETTINGS)
    .argument('<run>', 'run id (workflow id)')
    .action(async (runId: string, flags: Flags) => {
      const { json: asJson, verbose } = settingsOf(flags).values;
      await withClient(flags, async (client, target) => {
        const run = await asRunInput(() => describeRun(client, runId));
        const state = await stateOf(client, run);
        const scheduled = run.kind === 'scheduled' && run.status === 'COMPLETED' ? await scheduledRunResult(client, runId) : undefined;
        const ui = runLink(target, runId);
        const json = {
          runId,
          kind: run.kind,
          status: run.status,
          startTime: run.startTime,
          ...(run.closeTime === undefined ? {} : { closeTime: run.closeTime }),
          ...(ui === undefined ? {} : { ui }),
          ...(state.pruneRunId === undefined || state.pruneRunId === runId ? {} : { pruneRunId: state.pruneRunId }),
          progress: state.prune?.progress ?? state.compare?.progress ?? null,
          live: state.prune?.live ?? (state.compare === undefined ? null : { running: state.compare.running }),
          ...(scheduled === undefined ? {} : { result: scheduled }),
        };
        const lines = [`run ${runId} (${run.kind}): ${run.status}`, ...linkLine(target, runId)];
        if (state.pruneRunId !== undefined && state.pruneRunId !== runId) lines.push(`  prune run ${state.pruneRunId}`);
        const { prune, compare } = state;
        if (prune !== undefined) {
          if (run.status === 'RUNNING') lines.push(...pruneProgressLines(prune.live, verbose).map((line) => `  ${line}`));
          if (prune.progress.stoppedBecause !== undefined) lines.push(`  stopped: ${prune.progress.stoppedBecause}`);
          if (prune.progress.baseline !== undefined) lines.push(roundsTable(prune.progress.baseline, prune.progress.history, prune.progress.output));
        }
        if (compare !== undefined) lines.push(...compareProgressLines(compare.progress, compare.running, verbose).map((line) => `  ${line}`));
        if (scheduled !== undefined) lines.push(`  ${describeScheduledResult(scheduled)}${scheduled.keptDir === undefined ? '' : ` -> ${scheduled.keptDir}`}`);
        print(asJson, json, lines.join('\n'));
      });
    });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Follows a prune run until it ends; its result. A scheduled firing's prune run starts once the
 * firing has read its model: until then `firing` is watched, and its failure (a missing model) thrown.
 */
async function followPrune(client: Client, pruneRunId: string, options: ProgressViewOptions, rounds: NodeJS.WritableStream, firing?: string): Promise<PruneWorkflowResult> {
  while (firing !== undefined && !(await describeRun(client, pruneRunId).then(() => true, () => false))) {
    const parent = await describeRun(client, firing);
    if (parent.status !== 'RUNNING') await scheduledRunResult(client, firing);
    await sleep(500);
  }
  return followRun({ name: pruneRunId, result: pruneHandle(client, pruneRunId).result(), read: () => pruneRunProgressOf(client, pruneRunId) }, options, rounds);
}

export function watchCommand(): Command {
  return runCommand(
    'watch',
    'follow a run (prune, compare or scheduled) live: progress with rate and ETA, each finished round, then the result; ' +
      "with --out DIR, also write the result directory the submitting command writes to --out (at once for a finished run)",
    WATCH_SETTINGS,
  )
    .argument('<run>', 'run id (workflow id)')
    .action(async (runId: string, flags: Flags) => {
      const settings = asUsage(() => resolveSettings(WATCH_SETTINGS, { flags, env: process.env }));
      const { values } = settings;
      const options: ProgressViewOptions = { intervalSeconds: values.progressInterval, verbose: values.verbose };
      const json = values.json;
      // Refused before anything else, as prune and compare refuse theirs: nothing is waited for in vain.
      if (values.out !== undefined) await checkOutputDir(values.out);
      const target = await resolveTarget(settings);
      const artifacts = values.out === undefined ? undefined : await openRunArtifacts(storeFromSettings(settings), target.artifacts);
      try {
        const client = await connectTarget(target);
        try {
          const run = await asRunInput(() => describeRun(client, runId));
          const output =
            values.out === undefined || artifacts === undefined
              ? undefined
              : await prepareWatchOutput(client, run, { out: resolve(values.out), artifacts, backend: values.backend, quiet: json });
          process.stderr.write(`watching run ${runId} (${run.kind})\n${linkLine(target, runId).map((line) => `${line}\n`).join('')}`);
          await watchRun(client, run, options, json, output);
        } finally {
          await client.connection.close();
        }
      } finally {
        artifacts?.close();
      }
    });
}

/** Follows `run` to its end, writes its result directory when `output` is given, and prints its result. */
async function watchRun(client: Client, run: RunDescription, options: ProgressViewOptions, json: boolean, output: WatchOutput | undefined): Promise<void> {
  const { runId, kind } = run;
  const written = output === undefined ? {} : { out: output.out };
  const follow = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw output === undefined ? error : await endedWithoutResult(client, runId, output.out, error);
    }
  };
  const say = (): void => {
    if (output !== undefined) process.stderr.write(`result written to ${output.out}\n`);
  };
  if (kind === 'compare') {
    const result = await follow(() => followComparison(client, runId, options));
    if (output !== undefined) await writeWatchedComparison(client, output, runId, result);
    say();
    print(json, { runId, kind, ...written, ...result }, screenTable(result));
    return;
  }
  const pruneRunId = pruneRunIdOf(run) as string;
  const rounds = json ? process.stderr : process.stdout;
  const result = await follow(() => followPrune(client, pruneRunId, options, rounds, kind === 'scheduled' ? runId : undefined));
  if (output !== undefined) await writeWatchedPrune(client, output, { runId, pruneRunId }, result);
  say();
  if (kind === 'prune') {
    print(json, { runId, kind, ...written, ...result }, renderResult(result));
    return;
  }
  const scheduled = await scheduledRunResult(client, runId);
  print(json, { runId, kind, ...written, ...scheduled }, `${renderResult(result)}${describeScheduledResult(scheduled)}${scheduled.keptDir === undefined ? '' : ` -> ${scheduled.keptDir}`}\n  ${scheduled.reason}`);
}

const CONTROL_SAYS: Readonly<Record<RunAction, string>> = {
  pause: 'pause requested; it pauses at the next round boundary',
  resume: 'resume requested',
  cancel: 'cancel requested; it stops at the next round boundary (the round in progress finishes)',
};

/** `pause`, `resume`, `cancel`: the request, sent to the run that takes it. */
function controlCommand(action: RunAction, description: string): Command {
  const command = runCommand(action, description).argument('<run>', 'run id (workflow id)');
  if (action === 'cancel') command.option('--wait', 'wait until the run has stopped');
  return command.action(async (runId: string, flags: Flags & { wait?: boolean }) => {
    const { json } = settingsOf(flags).values;
    await withClient(flags, async (client, target) => {
      const run = await asRunInput(() => describeRun(client, runId));
      const receiver = await asRunInput(() => controlRun(client, run, action));
      const says = run.kind === 'compare' ? 'cancel requested; its activities stop at their next heartbeat' : CONTROL_SAYS[action];
      const lines = [`run ${runId}: ${says}${receiver === runId ? '' : ` (sent to its prune run ${receiver})`}`, ...linkLine(target, runId)];
      let stopped: Record<string, unknown> = {};
      if (action === 'cancel' && flags.wait === true) {
        if (run.kind === 'compare') {
          const outcome = await compareHandle(client, runId)
            .result()
            .then(
              () => 'completed before the cancel reached it',
              () => 'cancelled',
            );
          lines.push(`run ${runId}: stopped (${outcome})`);
          stopped = { stopped: outcome };
        } else {
          const result = await pruneHandle(client, receiver).result();
          lines.push(`run ${runId}: stopped (${result.stoppedBecause}), result = round ${result.resultRound}`);
          stopped = { stopped: result.stoppedBecause, resultRound: result.resultRound };
        }
      }
      print(json, { runId, kind: run.kind, action, sentTo: receiver, ...stopped }, lines.join('\n'));
    });
  });
}

export const cancelCommand = (): Command =>
  controlCommand('cancel', 'cancel a run: a prune run (or a scheduled one) stops at the next round boundary, its result the last finished round; a comparison stops now');
export const pauseCommand = (): Command =>
  controlCommand('pause', "pause a prune run (or a scheduled one) at the next round boundary; 'ippro resume' continues it");
export const resumeCommand = (): Command => controlCommand('resume', 'resume a paused prune run (or a scheduled one)');

interface RunRow {
  runId: string;
  kind: string;
  status: string;
  started: string;
  round: number | null;
  rounds: number | null;
  phase: string | null;
  stoppedBecause: string | null;
  ui?: string;
}

async function rowOf(client: Client, target: RemoteTarget, listing: RunListing): Promise<RunRow> {
  const answers = listing.status === 'RUNNING' || listing.status === 'COMPLETED';
  const state = answers ? await stateOf(client, listing) : undefined;
  const progress = state?.prune?.progress;
  const compare = state?.compare?.progress;
  const ui = runLink(target, listing.runId);
  return {
    runId: listing.runId,
    kind: listing.kind,
    status: listing.status,
    started: listing.startTime.toISOString(),
    round: progress?.round ?? null,
    rounds: progress?.rounds ?? null,
    phase: progress?.phase ?? (compare === undefined ? null : `${compare.phase} ${compare.rowsDone}/${compare.rowsTotal}`),
    stoppedBecause: progress?.stoppedBecause ?? null,
    ...(ui === undefined ? {} : { ui }),
  };
}

export function runsCommand(): Command {
  return runCommand('runs', 'list recent runs (prune, compare and scheduled) with their kind, status and progress')
    .option('--limit <n>', 'runs to show', '20')
    .action(async (flags: Flags & { limit: string }) => {
      const limit = parseNumberFlag('--limit', flags.limit, isPositiveInteger, 'a positive integer');
      const { json } = settingsOf(flags).values;
      await withClient(flags, async (client, target) => {
        const rows = await Promise.all((await listRuns(client, limit)).map((listing) => rowOf(client, target, listing)));
        if (json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no runs\n');
          return;
        }
        const table = textTable(
          ['run', 'kind', 'status', 'started', 'round', 'phase'],
          rows.map((row) => [row.runId, row.kind, row.status, row.started, row.round === null ? '-' : `${row.round}/${row.rounds}`, row.stoppedBecause ?? row.phase ?? '-']),
        );
        const ui = runLink(target);
        process.stdout.write(`${[table, ...(ui === undefined ? [] : [`Temporal UI: ${ui}`])].join('\n')}\n`);
      });
    });
}
