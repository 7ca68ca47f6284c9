import { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startPruneInProcess } from '@ippro/activities';
import { ArtifactStore, OutputTakenError } from '@ippro/artifact-store';
import { RunIdTakenError, RunInputTooLargeError, checkRunIdFree, pruneRunProgressOf, startPrune } from '@ippro/orchestration';
import type { PruneRunProgress } from '@ippro/orchestration';
import { validateTarget } from '@ippro/planner';
import type { PruningTarget } from '@ippro/planner';
import { needsGradientStats } from '@ippro/pruning';
import type { EffectiveConfig, Resolved, ValuesOf } from '@ippro/settings';
import { PruneInputError, checkPruneInput, liveProgress } from '@ippro/workflow-core';
import type { PruneWorkflowInput, PruneWorkflowResult } from '@ippro/workflow-core';
import { asBadInput, checkOutputDir, startBackend } from '../cli-inputs';
import { addSettings, commandSettings, printConfigIfAsked, PRINT_CONFIG_HELP } from '../command-settings';
import type { RunInputs } from '../run-inputs';
import { UsageError } from '../exit-codes';
import { detachOnInterrupt, printSubmitted, requireOutUnlessDetached } from '../detached-runs';
import { viewOptions } from '../progress-view';
import { connectTarget, resolveTarget, runLink } from '../remote';
import { openRunArtifacts, storeFromSettings } from '../run-artifacts';
import { PRUNE_SETTINGS } from '../run-settings';
import type { ACCURACY_BUDGET_SETTINGS, PRUNE_INPUT_SETTINGS, PruneSettingsSet, RUN_INPUT_SETTINGS } from '../run-settings';
import { keptOnStack, writePruneOutput } from '../prune-output';
import { checkScoringSamples, checkTrajectorySteps, prepareRunInputs, proscoreOf, runConfigOf } from '../run-inputs';
import { printWarnings } from '../model-warnings';
import { followRun, renderResult } from '../run-view';
import { commandLine, givenDatasets, submissionMemo } from '../run-submission';
import type { RunSubmission } from '../run-submission';

/** The settings a prune run's input is made of (`prune` and `schedule create` take them). */
export type PruneInputValues = ValuesOf<typeof RUN_INPUT_SETTINGS & typeof PRUNE_INPUT_SETTINGS>;

export function pruneCommand(): Command {
  const command = addSettings(
    new Command('prune').description(
      'prune a model to a target in rounds: score, plan, remove, fine-tune, evaluate. Without --local the run is submitted ' +
        "to the orchestrator of a running stack ('ippro dev', or --temporal for a cluster); the orchestrator owns its worker pool " +
        "('ippro dev --workers')",
    ),
    PRUNE_SETTINGS,
  ).option('--print-config [file]', PRINT_CONFIG_HELP);
  return command.action(async (_options: unknown, self: Command) => {
    const settings = commandSettings(self, PRUNE_SETTINGS);
    const points = accuracyBudgetPoints(settings);
    const config = runConfig(settings, points);
    if (await printConfigIfAsked(self, settings, 'ippro prune', config)) return;
    const { local, out, wait, json } = settings.values;
    requireOutUnlessDetached(out, { local, wait });
    const prepared = await prepareInput(settings, { local, quiet: json, ...(out === undefined ? {} : { out }) });
    const run: RunSettings = { values: settings.values, config, submission: submissionOf(prepared, settings, config) };
    if (local) {
      printWarnings(prepared.warnings);
      const result = await runLocal(prepared, run);
      process.stdout.write(json ? `${JSON.stringify({ ...result, config }, null, 2)}\n` : renderResult(result));
    } else {
      await runDistributed(prepared, settings, run);
    }
  });
}

/** What a run needs from its settings beyond its input: where results go, how they show, its effective configuration, and what its files show of its settings. */
interface RunSettings {
  values: ValuesOf<PruneSettingsSet>;
  config: EffectiveConfig;
  submission: RunSubmission;
}

/**
 * The accuracy budget in percentage points. `--max-accuracy-drop` (a fraction) is its old name, kept
 * for one release: converted, with a warning naming the new flag.
 */
export function accuracyBudgetPoints(settings: Resolved<typeof ACCURACY_BUDGET_SETTINGS>): number | undefined {
  const { accuracyBudget, maxAccuracyDrop } = settings.values;
  if (maxAccuracyDrop === undefined) return accuracyBudget;
  if (accuracyBudget !== undefined) throw new UsageError(`${settings.where('maxAccuracyDrop')} is the old name of --accuracy-budget (percentage points); give only --accuracy-budget`);
  return warnOldBudgetFlag(maxAccuracyDrop);
}

/** The warning of the old --max-accuracy-drop; returns the budget in points. */
export function warnOldBudgetFlag(fraction: number): number {
  const points = Number((fraction * 100).toPrecision(12));
  process.stderr.write(`ippro: --max-accuracy-drop is deprecated: use --accuracy-budget ${points} (percentage points, not a fraction)\n`);
  return points;
}

/** The workflow's budget is a fraction: the old flag's fraction as given, else the points converted. */
export function maxAccuracyDropOf(settings: Resolved<typeof ACCURACY_BUDGET_SETTINGS>): number | undefined {
  const { accuracyBudget, maxAccuracyDrop } = settings.values;
  return maxAccuracyDrop ?? (accuracyBudget === undefined ? undefined : accuracyBudget / 100);
}

/** The effective configuration a run records (runConfigOf), the accuracy budget always in points. */
function runConfig(settings: Resolved<PruneSettingsSet>, points: number | undefined): EffectiveConfig {
  const config = runConfigOf(settings);
  if (points !== undefined) config['accuracy-budget'] = points;
  return config;
}

/**
 * What a prune run's output files show of the settings it was submitted with; kept with a run on a
 * stack as its memo. `settings` names the command (prune, schedule create) whose flags it records.
 */
export function submissionOf(
  prepared: PreparedInput,
  settings: Resolved<typeof RUN_INPUT_SETTINGS & typeof PRUNE_INPUT_SETTINGS>,
  config: EffectiveConfig,
): RunSubmission {
  return {
    config,
    warnings: prepared.warnings,
    model: settings.values.model ?? '',
    datasets: givenDatasets(prepared.input, prepared.specOf),
    command: commandLine(process.argv.slice(2), settings.set),
  };
}

export interface PreparedInput {
  /** The input with artifact ids filled in once `artifacts` are stored. */
  input: PruneWorkflowInput;
  /** Artifacts the run needs: the model, and datasets that are not resolvable by name on a worker. */
  artifacts: Uint8Array[];
  /** What looks wrong with the model (printed on stderr, recorded in summary.json and the report). */
  warnings: string[];
  /** The spec each dataset of the input was given as. */
  specOf: RunInputs['specOf'];
}

/** Checks the settings, the model and the datasets; nothing is written or started before this succeeds. */
export async function prepareInput(
  settings: Resolved<typeof RUN_INPUT_SETTINGS & typeof PRUNE_INPUT_SETTINGS>,
  run: { local: boolean; out?: string; quiet: boolean },
): Promise<PreparedInput> {
  const values = settings.values;
  const target = targetOf(settings);
  const maxAccuracyDrop = maxAccuracyDropOf(settings);
  if (run.out !== undefined) await checkOutputDir(run.out);
  await startBackend(values.backend, run.quiet);
  const { modelArtifactId, output, warnings, data, evaluation: evaluationData, fineTune, recalibration, dataSize, artifacts, specOf } = await prepareRunInputs(settings, {
    local: run.local,
    quiet: run.quiet,
    shares: { rounds: values.rounds, repetitions: values.repetitions, replicas: values.replicas },
  });
  const proscore = proscoreOf(settings, values.proscoreReading === 'trajectory');
  await checkScoringSamples(settings, needsGradientStats(values.criterion), dataSize);
  await checkTrajectorySteps(settings, () => values.scoringSamples ?? dataSize(), values.batchSize);
  if (proscore !== undefined && values.criterion !== 'proscore') {
    throw new UsageError(`--proscore-reading, --proscore-order and --proscore-weight-decay read PROscore; --criterion is ${values.criterion}`);
  }
  const scoring = {
    dataset: values.scoringSamples === undefined ? data : { ...data, draw: { size: values.scoringSamples, seed: values.seed } },
    batchSize: values.batchSize,
    ...(values.batchNormMode === 'inference' ? {} : { batchNormMode: values.batchNormMode }),
    ...(values.includeBias ? { includeBias: true } : {}),
  };
  const input: PruneWorkflowInput = {
    modelArtifactId,
    criterion: values.criterion,
    output,
    ...(values.lambda === undefined ? {} : { lambda: values.lambda }),
    ...(proscore === undefined ? {} : { proscore }),
    // The weight-only criteria read the scoring settings too, for whether F includes biases.
    ...(needsGradientStats(values.criterion) || values.includeBias ? { scoring } : {}),
    ...(recalibration === undefined ? {} : { recalibration }),
    ...(fineTune === undefined ? {} : { fineTune: { ...fineTune, repetitions: values.repetitions, replicas: values.replicas } }),
    evaluation: { dataset: evaluationData, batchSize: values.evalBatchSize },
    plan: {
      target,
      rounds: values.rounds,
      schedule: values.schedule,
      ranking: values.ranking,
      maxLayerRatio: values.maxLayerRatio,
      minChannels: values.minChannels,
      ...(values.roundTo === undefined ? {} : { roundTo: values.roundTo }),
      ...(values.ignoreLayers === undefined ? {} : { ignoredLayers: values.ignoreLayers }),
      ...(values.groupKinds === undefined ? {} : { groupKinds: values.groupKinds }),
    },
    ...(maxAccuracyDrop === undefined ? {} : { maxAccuracyDrop }),
    shards: { batchShards: values.scoreShards, layerShards: values.layerShards, maxParallel: values.maxParallel },
    seed: values.seed,
  };
  try {
    checkPruneInput(input);
  } catch (error) {
    if (error instanceof PruneInputError) throw new UsageError(error.message);
    throw error;
  }
  return { input, artifacts, warnings, specOf };
}

async function runLocal(prepared: PreparedInput, run: RunSettings): Promise<PruneWorkflowResult> {
  const options = run.values;
  const root = await mkdtemp(join(tmpdir(), 'ippro-prune-'));
  let keepStore = false;
  try {
    const store = await ArtifactStore.open({ root, fsync: false });
    for (const bytes of prepared.artifacts) await store.put(bytes);
    const local = startPruneInProcess(prepared.input, { store, ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }) });
    const read = async (): Promise<PruneRunProgress> => {
      const progress = local.progress();
      return { progress, live: liveProgress(progress, local.running(), Date.now()) };
    };
    const result = await followRun({ name: 'local', result: local.result, read }, viewOptions(options), process.stderr);
    const kept = `the run's store, kept at ${root} (the file objects/${result.modelArtifactId.slice(0, 2)}/${result.modelArtifactId})`;
    const finished = { input: prepared.input, result, read: (id: string) => store.get(id), submission: run.submission };
    await writePruneOutput(resolve(options.out as string), finished, kept).catch((error: unknown) => {
      keepStore = !(error instanceof Error && error.cause instanceof OutputTakenError);
      throw error;
    });
    return result;
  } finally {
    if (!keepStore) await rm(root, { recursive: true, force: true });
  }
}

async function runDistributed(prepared: PreparedInput, settings: Resolved<PruneSettingsSet>, run: RunSettings): Promise<void> {
  const options = run.values;
  const target = await resolveTarget(settings);
  const artifacts = await openRunArtifacts(storeFromSettings(settings), target.artifacts);
  const client = await connectTarget(target).catch((error: unknown) => {
    artifacts.close();
    throw error;
  });
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  try {
    const workflowId = options.runId ?? `prune-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    // Before anything is uploaded: a taken run id is bad input, and nothing may be written for it.
    await asBadRunInput(() => checkRunIdFree(client, workflowId));
    await asBadInput(artifacts.description, async () => {
      for (const bytes of prepared.artifacts) await artifacts.put(bytes);
    });
    const handle = await asBadRunInput(() => startPrune(client, prepared.input, { workflowId, taskQueue: target.taskQueue, memo: submissionMemo(run.submission) }));
    printWarnings(prepared.warnings);
    const ui = runLink(target, workflowId);
    if (!options.wait) {
      printSubmitted(workflowId, ui, options.json);
      return;
    }
    say(`run ${workflowId} started on ${target.address} (task queue ${target.taskQueue})${ui === undefined ? '' : `\n  Temporal UI: ${ui}`}`);
    detachOnInterrupt('run', workflowId, options.out as string);
    const result = await followRun(
      { name: workflowId, result: handle.result(), read: () => pruneRunProgressOf(client, workflowId) },
      viewOptions(options),
      options.json ? process.stderr : process.stdout,
    );
    const finished = { input: prepared.input, result, read: (id: string) => artifacts.get(id), submission: run.submission };
    await writePruneOutput(resolve(options.out as string), finished, keptOnStack(artifacts.description, workflowId));
    process.stdout.write(
      options.json ? `${JSON.stringify({ runId: workflowId, ...(ui === undefined ? {} : { ui }), ...result, config: run.config }, null, 2)}\n` : `run ${workflowId}\n${renderResult(result)}`,
    );
  } finally {
    artifacts.close();
    await client.connection.close();
  }
}

/** A taken run id or an input Temporal cannot carry is bad input, found before the run starts. */
async function asBadRunInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RunIdTakenError) throw new UsageError(`--run-id: ${error.message}`);
    if (error instanceof RunInputTooLargeError) throw new UsageError(error.message);
    throw error;
  }
}

/** Exactly one of the three targets. */
function targetOf(settings: Resolved<typeof PRUNE_INPUT_SETTINGS>): PruningTarget {
  const { targetFlops, targetParams, targetChannels } = settings.values;
  const given = (
    [
      ['flops', targetFlops],
      ['params', targetParams],
      ['channels', targetChannels],
    ] as const
  ).filter((entry): entry is readonly ['flops' | 'params' | 'channels', number] => entry[1] !== undefined);
  const [metric, fraction] = given[0] ?? [];
  if (given.length !== 1 || metric === undefined || fraction === undefined) throw new UsageError('give exactly one of --target-flops, --target-params, --target-channels');
  const target = { metric, fraction };
  validateTarget(target);
  return target;
}
