import { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCompareInProcess } from '@ippro/activities';
import { ArtifactStore } from '@ippro/artifact-store';
import { comparisonTableText, criterionVariants, needsScoringData, resolveCompareSettings, variantReading } from '@ippro/compare';
import type { CompareInput, CompareResult } from '@ippro/compare';
import { RunIdTakenError, checkRunIdFree, startCompare } from '@ippro/orchestration';
import type { ReadArtifact } from '@ippro/report';
import { required } from '@ippro/settings';
import type { EffectiveConfig, Resolved, ValuesOf } from '@ippro/settings';
import type { TargetMetricName } from '@ippro/workflow-core';
import { asBadInput, checkOutputDir, startBackend } from '../cli-inputs';
import { PRINT_CONFIG_HELP, addSettings, asUsage, commandSettings, printConfigIfAsked } from '../command-settings';
import { wallSeconds, writeCompareOutput } from '../compare-output';
import type { RunInputs } from '../run-inputs';
import { UsageError } from '../exit-codes';
import { detachOnInterrupt, printSubmitted, requireOutUnlessDetached } from '../detached-runs';
import { ProgressView, compareProgressLines, viewOptions } from '../progress-view';
import { connectTarget, resolveTarget, runLink } from '../remote';
import { followComparison } from '../run-view';
import { openRunArtifacts, storeFromSettings } from '../run-artifacts';
import { COMPARE_SETTINGS } from '../run-settings';
import type { CompareSettingsSet } from '../run-settings';
import { textTable } from '../text-table';
import { printWarnings } from '../model-warnings';
import { checkScoringSamples, checkTrajectorySteps, prepareRunInputs, proscoreOf, runConfigOf } from '../run-inputs';
import { commandLine, givenDatasets, submissionMemo } from '../run-submission';
import type { RunSubmission } from '../run-submission';

type CompareValues = ValuesOf<CompareSettingsSet>;

export function compareCommand(): Command {
  const command = addSettings(
    new Command('compare').description(
      'compare pruning criteria on one model: one scoring pass, then every criterion at every target, one-shot, ' +
        'top-1 before and after fine-tuning; writes compare.md, compare.csv, compare.json and report.html to --out. ' +
        "Without --local the comparison runs on a stack ('ippro dev', or --temporal for a cluster)",
    ),
    COMPARE_SETTINGS,
  ).option('--print-config [file]', PRINT_CONFIG_HELP);
  return command.action(async (_options: unknown, self: Command) => {
    const settings = commandSettings(self, COMPARE_SETTINGS);
    const config = runConfigOf(settings);
    if (await printConfigIfAsked(self, settings, 'ippro compare', config)) return;
    const prepared = await prepareInput(settings);
    const options = settings.values;
    const submission = submissionOf(prepared, settings, config);
    const finished = options.local ? await runLocal(prepared, options) : await runDistributed(prepared, settings, submission);
    if (finished === undefined) return;
    const { result, read, seconds, finish } = finished;
    try {
      await writeCompareOutput(resolve(prepared.given.out as string), { input: prepared.input, result, read, submission, seconds });
    } finally {
      await finish();
    }
    process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${screenTable(result)}\n`);
  });
}

interface PreparedInput {
  input: CompareInput;
  artifacts: Uint8Array[];
  /** The settings as given, for the report's facts; no `out` when the run is submitted without waiting. */
  given: { out?: string; model: string; testData?: string };
  /** What looks wrong with the model (printed on stderr, recorded in compare.json and the report). */
  warnings: string[];
  /** The spec each dataset of the input was given as. */
  specOf: RunInputs['specOf'];
}

/** What a comparison's files show of the settings it was submitted with; kept with a run on a stack as its memo. */
function submissionOf(prepared: PreparedInput, settings: Resolved<CompareSettingsSet>, config: EffectiveConfig): RunSubmission {
  const { model, testData } = prepared.given;
  return {
    config,
    warnings: prepared.warnings,
    model,
    datasets: givenDatasets(prepared.input, prepared.specOf),
    command: commandLine(process.argv.slice(2), settings.set),
    ...(testData === undefined ? {} : { testData }),
  };
}

function targetsOf(settings: Resolved<CompareSettingsSet>): { metric: TargetMetricName; targets: number[] } {
  const given = (['targetFlops', 'targetParams', 'targetChannels'] as const).filter((name) => settings.values[name] !== undefined);
  if (given.length > 1) throw new UsageError('give one of --target-flops, --target-params, --target-channels');
  const name = given[0] ?? 'targetFlops';
  const metric: TargetMetricName = name === 'targetParams' ? 'params' : name === 'targetChannels' ? 'channels' : 'flops';
  return { metric, targets: settings.values[name] ?? [0.3, 0.5, 0.7] };
}

/** Checks the settings, the model and the datasets; nothing is written or started before this succeeds. */
async function prepareInput(settings: Resolved<CompareSettingsSet>): Promise<PreparedInput> {
  const values = settings.values;
  const [modelDir] = asUsage(() => [required(settings, 'model'), required(settings, 'data')]);
  const { out } = values;
  requireOutUnlessDetached(out, values);
  const { metric, targets } = targetsOf(settings);
  if (out !== undefined) await checkOutputDir(out);
  await startBackend(values.backend, values.json);
  // Each pruned model is tuned once: the whole budget is its own.
  const { modelArtifactId, output, warnings, data, evaluation, test, fineTune, recalibration, dataSize, artifacts, specOf } = await prepareRunInputs(settings, {
    local: values.local,
    quiet: values.json,
    shares: { rounds: 1, repetitions: 1, replicas: 1 },
    ...(values.testData === undefined ? {} : { test: { spec: values.testData, flag: settings.where('testData') } }),
  });
  const variants = asUsage(() => criterionVariants(values.criteria));
  const proscore = proscoreOf(settings, values.proscoreReading === 'trajectory' || variants.some((variant) => variantReading(variant, undefined)?.reading === 'trajectory'));
  await checkScoringSamples(settings, variants.some(needsScoringData), dataSize);
  await checkTrajectorySteps(settings, () => values.scoringSamples ?? dataSize(), values.batchSize);
  const scoring = { dataset: data, batchSize: values.batchSize, batchNormMode: values.batchNormMode, ...(values.includeBias ? { includeBias: true } : {}) };
  const input: CompareInput = {
    modelArtifactId,
    output,
    criteria: values.criteria,
    targets,
    metric,
    ...(values.lambda === undefined ? {} : { lambda: values.lambda }),
    ...(proscore === undefined ? {} : { proscore }),
    // The weight-only criteria read the scoring settings too, for whether F includes biases.
    ...(variants.some(needsScoringData) || values.includeBias ? { scoring } : {}),
    ...(values.scoringSamples === undefined ? {} : { scoringSamples: values.scoringSamples }),
    ...(recalibration === undefined ? {} : { recalibration }),
    ...(fineTune === undefined ? {} : { fineTune }),
    evaluation: { dataset: evaluation, batchSize: values.evalBatchSize },
    ...(test === undefined ? {} : { test: { dataset: test, batchSize: values.evalBatchSize } }),
    plan: {
      ranking: values.ranking,
      maxLayerRatio: values.maxLayerRatio,
      minChannels: values.minChannels,
      ...(values.roundTo === undefined ? {} : { roundTo: values.roundTo }),
      ...(values.ignoreLayers === undefined ? {} : { ignoredLayers: values.ignoreLayers }),
      ...(values.groupKinds === undefined ? {} : { groupKinds: values.groupKinds }),
    },
    seeds: values.seeds,
    seed: values.seed,
    shards: { batchShards: values.scoreShards, layerShards: values.layerShards, maxParallel: values.maxParallel },
  };
  try {
    resolveCompareSettings(input);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const given = { model: modelDir, ...(out === undefined ? {} : { out }), ...(values.testData === undefined ? {} : { testData: values.testData }) };
  return { input, artifacts, given, warnings, specOf };
}

interface Finished {
  result: CompareResult;
  read: ReadArtifact;
  /** How long the comparison took: in this process, or on the stack from its start to its close. */
  seconds: number;
  /** Releases what `read` needs (a temporary store, a connection). */
  finish: () => Promise<void>;
}

async function runLocal(prepared: PreparedInput, options: CompareValues): Promise<Finished> {
  const started = Date.now();
  const root = await mkdtemp(join(tmpdir(), 'ippro-compare-'));
  const finish = (): Promise<void> => rm(root, { recursive: true, force: true });
  try {
    const store = await ArtifactStore.open({ root, fsync: false });
    for (const bytes of prepared.artifacts) await store.put(bytes);
    printWarnings(prepared.warnings);
    const view = new ProgressView(viewOptions(options));
    const result = await runCompareInProcess(prepared.input, {
      store,
      ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }),
      onProgress: (progress) => view.show(compareProgressLines(progress, [], options.verbose)),
    });
    view.done();
    return { result, read: (id) => store.get(id), seconds: (Date.now() - started) / 1000, finish };
  } catch (error) {
    await finish();
    throw error;
  }
}

/** Runs the comparison on the stack and follows it; with --no-wait, returns once it has started (nothing to write). */
async function runDistributed(prepared: PreparedInput, settings: Resolved<CompareSettingsSet>, submission: RunSubmission): Promise<Finished | undefined> {
  const options = settings.values;
  const target = await resolveTarget(settings);
  const artifacts = await openRunArtifacts(storeFromSettings(settings), target.artifacts);
  const client = await connectTarget(target).catch((error: unknown) => {
    artifacts.close();
    throw error;
  });
  const finish = async (): Promise<void> => {
    artifacts.close();
    await client.connection.close();
  };
  try {
    const workflowId = options.runId ?? `compare-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    await runIdIsFree(() => checkRunIdFree(client, workflowId));
    await asBadInput(artifacts.description, async () => {
      for (const bytes of prepared.artifacts) await artifacts.put(bytes);
    });
    await runIdIsFree(() => startCompare(client, prepared.input, { workflowId, taskQueue: target.taskQueue, memo: submissionMemo(submission) }));
    printWarnings(prepared.warnings);
    const ui = runLink(target, workflowId);
    if (!options.wait) {
      printSubmitted(workflowId, ui, options.json);
      await finish();
      return undefined;
    }
    process.stderr.write(`comparison ${workflowId} started on ${target.address} (task queue ${target.taskQueue})\n${ui === undefined ? '' : `  Temporal UI: ${ui}\n`}`);
    detachOnInterrupt('comparison', workflowId, prepared.given.out as string);
    const result = await followComparison(client, workflowId, viewOptions(options));
    // The run's own wall time, which `ippro watch --out` reads back the same.
    const seconds = wallSeconds(await client.workflow.getHandle(workflowId).describe());
    return { result, read: (id) => artifacts.get(id), seconds, finish };
  } catch (error) {
    await finish();
    throw error;
  }
}

/** A RunIdTakenError becomes bad input (--run-id). */
async function runIdIsFree<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RunIdTakenError) throw new UsageError(`--run-id: ${error.message}`);
    throw error;
  }
}

export function screenTable(result: CompareResult): string {
  const { headers, rows } = comparisonTableText(result);
  return textTable(headers, rows);
}
