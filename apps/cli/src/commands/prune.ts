import { Command } from 'commander';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runPruneInProcess } from '@ippro/activities';
import { ArtifactStore, artifactKeyOf } from '@ippro/artifacts';
import { formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import { buildChannelGraph } from '@ippro/graph';
import { DEFAULT_LAMBDA } from '@ippro/importance';
import { datasetToArtifact, modelToArtifact, writeModelArtifactToDir } from '@ippro/model-artifact';
import { RunIdTakenError, RunInputTooLargeError, checkRunIdFree, startPrune } from '@ippro/orchestration';
import { validateTarget } from '@ippro/planner';
import type { PruningTarget, Ranking, RemovalSchedule } from '@ippro/planner';
import { needsGradientStats, parseCriterion } from '@ippro/pruning';
import { FINE_TUNE_SCHEDULES } from '@ippro/workflow-core';
import type { DatasetRef, FineTuneSchedule, PruneWorkflowInput, PruneWorkflowResult } from '@ippro/workflow-core';
import {
  asBadInput,
  checkOutputDir,
  isNonNegativeInteger,
  isOpenFraction,
  isPositive,
  isPositiveInteger,
  loadModel,
  openDataset,
  parseNumberFlag,
  startBackend,
} from '../cli-inputs';
import { UsageError } from '../exit-codes';
import { ProgressBar } from '../progress-bar';
import { addRemoteFlags, connectTarget, resolveTarget } from '../remote';
import type { RemoteFlags } from '../remote';
import { addStoreFlags, openRunArtifacts, storeFromFlags } from '../run-artifacts';
import type { StoreFlags } from '../run-artifacts';
import { pruneReportFiles } from '../prune-report';
import { followRun, renderResult } from '../run-view';

export interface PruneOptions extends RemoteFlags, StoreFlags {
  local?: boolean;
  model: string;
  data: string;
  evalData?: string;
  dataDir?: string;
  criterion: string;
  lambda?: string;
  targetFlops?: string;
  targetParams?: string;
  targetChannels?: string;
  rounds: string;
  schedule: string;
  ranking: string;
  maxLayerRatio: string;
  minChannels: string;
  roundTo?: string;
  ignoreLayers?: string;
  finetuneSteps: string;
  finetuneLr: string;
  finetuneSchedule: string;
  finetuneData?: string;
  batchSize: string;
  evalBatchSize: string;
  scoreShards: string;
  layerShards: string;
  replicas: string;
  repetitions: string;
  maxParallel: string;
  maxAccuracyDrop?: string;
  seed: string;
  out?: string;
  json?: boolean;
  backend: string;
  wait: boolean;
  runId?: string;
}

export function pruneCommand(): Command {
  const command = new Command('prune')
    .description(
      'prune a model to a target in rounds: score, plan, remove, fine-tune, evaluate. Without --local the run is submitted ' +
        "to the orchestrator of a running stack ('ippro dev', or --temporal for a cluster); the orchestrator owns its worker pool " +
        "('ippro dev --workers')",
    )
    .option('--local', 'run everything in this process (no Temporal, no workers): the same activities, the same bytes')
    .requiredOption('--model <dir>', 'model directory (model.json + weights)')
    .requiredOption('--data <spec>', 'scoring and fine-tuning data, e.g. cifar10:train[0:5000]')
    .option('--eval-data <spec>', 'evaluation data (default: the --data spec)')
    .option('--data-dir <dir>', 'directory holding the CIFAR-10 .bin files')
    .option('--criterion <name>', 'proscore | l1 | l2 | taylor | bn | random', 'proscore')
    .option('--lambda <value>', `PROscore step size (default ${DEFAULT_LAMBDA})`)
    .option('--target-flops <fraction>', 'remove this fraction of FLOPs, in (0, 1)')
    .option('--target-params <fraction>', 'remove this fraction of parameters, in (0, 1)')
    .option('--target-channels <fraction>', 'remove this fraction of channels, in (0, 1)')
    .option('--rounds <n>', 'pruning rounds', '1')
    .option('--schedule <name>', 'linear | geometric share of the target per round', 'linear')
    .option('--ranking <name>', 'global | uniform (per layer)', 'global')
    .option('--max-layer-ratio <fraction>', 'most of a layer\'s channels that may go', '0.9')
    .option('--min-channels <n>', 'fewest channels a layer keeps', '1')
    .option('--round-to <n>', 'keep layer widths a multiple of n')
    .option('--ignore-layers <names>', 'comma-separated layers never pruned (the output layer never is)')
    .option('--finetune-steps <k>', 'SGD steps per replica per repetition after each round (0: no fine-tuning)', '0')
    .option('--finetune-lr <rate>', 'fine-tuning learning rate', '0.01')
    .option('--finetune-schedule <name>', "constant | cosine: each round's rate decays to 0 over its steps", 'constant')
    .option('--finetune-data <spec>', 'fine-tuning data (default: the --data spec)')
    .option('--replicas <n>', 'local-SGD replicas per repetition (each trains on its share of the data; weights averaged)', '1')
    .option('--repetitions <m>', 'local-SGD repetitions per round', '1')
    .option('--batch-size <n>', 'scoring and fine-tuning batch size', '64')
    .option('--eval-batch-size <n>', 'evaluation batch size', '250')
    .option('--score-shards <n>', 'batch shards of each scoring pass and of evaluation (merged exactly)', '1')
    .option('--layer-shards <n>', 'group shards of each scoring pass (merged exactly)', '1')
    .option('--max-parallel <n>', 'activities of one fan-out in flight at once', '4')
    .option('--max-accuracy-drop <fraction>', 'stop when top-1 falls this much below the input model')
    .option('--seed <n>', 'seed of shuffling, augmentation and the random criterion', '0')
    .option('--out <dir>', 'new directory for the pruned model and summary.json (required with --local or --wait)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu (this process: --local compute, model checks)', 'auto')
    .option('--no-wait', 'submit the run, print its id and return (distributed only)')
    .option('--run-id <id>', 'workflow id of the run (default prune-<time>-<random>)');
  return addStoreFlags(addRemoteFlags(command)).action(async (options: PruneOptions) => {
    if (options.out === undefined && (options.local === true || options.wait)) throw new UsageError('--out <dir> is required (unless --no-wait)');
    const prepared = await prepareInput(options);
    if (options.local === true) {
      const result = await runLocal(prepared, options);
      process.stdout.write(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : renderResult(result));
    } else {
      await runDistributed(prepared, options);
    }
  });
}

export interface PreparedInput {
  /** The input with artifact ids filled in once `artifacts` are stored. */
  input: PruneWorkflowInput;
  /** Artifacts the run needs: the model, and datasets that are not resolvable by name on a worker. */
  artifacts: Uint8Array[];
}

/** Checks every flag, the model and the datasets; nothing is written or started before this succeeds. */
export async function prepareInput(options: PruneOptions): Promise<PreparedInput> {
  const criterion = await asBadInput('--criterion', () => parseCriterion(options.criterion));
  const target = parseTargetFlags(options);
  const numbers = parseNumbers(options);
  const plan = parsePlanFlags(options);
  if (options.out !== undefined) await checkOutputDir(options.out);
  await startBackend(options.backend, options.json === true);
  const model = await loadModel(options.model);
  let modelBytes: Uint8Array;
  try {
    await asBadInput(`model ${options.model}`, () => buildChannelGraph(model));
    modelBytes = await asBadInput(`model ${options.model}`, () => modelToArtifact(model));
  } finally {
    model.dispose();
  }
  const artifacts: Uint8Array[] = [modelBytes];
  const refs = new Map<string, DatasetRef>();
  const datasetRef = async (spec: string, flag: string): Promise<DatasetRef> => {
    const known = refs.get(spec);
    if (known !== undefined) return known;
    const parsed = await asBadInput(flag, () => parseDatasetSpec(spec));
    let ref: DatasetRef;
    if (parsed.scheme !== 'json' && parsed.range === undefined && !(parsed.scheme === 'cifar10' && options.local !== true)) {
      // Named data every executor opens by itself (synthetic; CIFAR-10 on --local). Opened here to check it.
      await openDataset(spec, flag, options.dataDir);
      ref = { spec: formatDatasetSpec(parsed) };
    } else if (parsed.scheme === 'cifar10' && parsed.range === undefined) {
      // The whole split: the workers read their own copy (ippro worker --data-dir).
      ref = { spec: formatDatasetSpec(parsed) };
    } else {
      // A file or a sample range: sent as a dataset artifact (workers never read paths from the network).
      const bytes = datasetToArtifact(await openDataset(spec, flag, options.dataDir));
      artifacts.push(bytes);
      ref = { spec: '', artifactId: artifactKeyOf(bytes) };
    }
    refs.set(spec, ref);
    return ref;
  };
  const data = await datasetRef(options.data, '--data');
  const evaluationData = options.evalData === undefined ? data : await datasetRef(options.evalData, '--eval-data');
  const tuningData = options.finetuneData === undefined || numbers.finetuneSteps === 0 ? data : await datasetRef(options.finetuneData, '--finetune-data');
  const learningRateSchedule = oneOf<FineTuneSchedule>('--finetune-schedule', options.finetuneSchedule, FINE_TUNE_SCHEDULES);
  const input: PruneWorkflowInput = {
    modelArtifactId: artifactKeyOf(modelBytes),
    criterion,
    ...(numbers.lambda === undefined ? {} : { lambda: numbers.lambda }),
    ...(needsGradientStats(criterion) ? { scoring: { dataset: data, batchSize: numbers.batchSize } } : {}),
    ...(numbers.finetuneSteps > 0
      ? {
          fineTune: {
            dataset: tuningData,
            batchSize: numbers.batchSize,
            steps: numbers.finetuneSteps,
            repetitions: numbers.repetitions,
            replicas: numbers.replicas,
            learningRate: numbers.finetuneLr,
            weightDecay: 5e-4,
            ...(learningRateSchedule === 'constant' ? {} : { learningRateSchedule }),
          },
        }
      : {}),
    evaluation: { dataset: evaluationData, batchSize: numbers.evalBatchSize },
    plan: { target, rounds: numbers.rounds, ...plan },
    ...(numbers.maxAccuracyDrop === undefined ? {} : { maxAccuracyDrop: numbers.maxAccuracyDrop }),
    shards: { batchShards: numbers.scoreShards, layerShards: numbers.layerShards, maxParallel: numbers.maxParallel },
    seed: numbers.seed,
  };
  return { input, artifacts };
}

async function runLocal(prepared: PreparedInput, options: PruneOptions): Promise<PruneWorkflowResult> {
  const root = await mkdtemp(join(tmpdir(), 'ippro-prune-'));
  try {
    const store = await ArtifactStore.open({ root, fsync: false });
    for (const bytes of prepared.artifacts) await store.put(bytes);
    const bar = new ProgressBar('pruning');
    const result = await runPruneInProcess(prepared.input, {
      store,
      ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }),
      onProgress: (phase, done, total) => bar.update(done, total, phase),
    });
    bar.done();
    const report = await pruneReportFiles(prepared.input, result, (id) => store.get(id), options);
    await writeResult(resolve(options.out as string), await store.get(result.modelArtifactId), result, report);
    return result;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function runDistributed(prepared: PreparedInput, options: PruneOptions): Promise<void> {
  const target = await resolveTarget(options);
  const artifacts = await openRunArtifacts(storeFromFlags(options), target.artifacts);
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
    const handle = await asBadRunInput(() => startPrune(client, prepared.input, { workflowId, taskQueue: target.taskQueue }));
    if (!options.wait) {
      process.stdout.write(options.json === true ? `${JSON.stringify({ runId: workflowId })}\n` : `${workflowId}\n`);
      return;
    }
    say(`run ${workflowId} started on ${target.address} (task queue ${target.taskQueue})`);
    process.once('SIGINT', () => {
      say(`\ndetached from run ${workflowId}; it keeps running: 'ippro watch ${workflowId}' follows it, 'ippro cancel ${workflowId}' stops it`);
      process.exit(130);
    });
    const result = await followRun(handle, (text) => (options.json === true ? process.stderr : process.stdout).write(text));
    const bytes = await artifacts.get(result.modelArtifactId);
    const report = await pruneReportFiles(prepared.input, result, (id) => artifacts.get(id), options);
    await writeResult(resolve(options.out as string), bytes, result, report);
    process.stdout.write(options.json === true ? `${JSON.stringify({ runId: workflowId, ...result }, null, 2)}\n` : `run ${workflowId}\n${renderResult(result)}`);
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

function parseTargetFlags(options: PruneOptions): PruningTarget {
  const given = (
    [
      ['flops', options.targetFlops],
      ['params', options.targetParams],
      ['channels', options.targetChannels],
    ] as const
  ).filter((entry): entry is readonly ['flops' | 'params' | 'channels', string] => entry[1] !== undefined);
  if (given.length !== 1) {
    throw new UsageError('give exactly one of --target-flops, --target-params, --target-channels');
  }
  const [metric, text] = given[0] ?? ['flops', ''];
  const fraction = parseNumberFlag(`--target-${metric}`, text, isOpenFraction, 'a fraction in (0, 1)');
  const target = { metric, fraction };
  validateTarget(target);
  return target;
}

function parseNumbers(options: PruneOptions) {
  const positiveInt = (flag: string, value: string): number => parseNumberFlag(flag, value, isPositiveInteger, 'a positive integer');
  return {
    lambda: options.lambda === undefined ? undefined : parseNumberFlag('--lambda', options.lambda, isPositive, 'a positive number'),
    rounds: positiveInt('--rounds', options.rounds),
    batchSize: positiveInt('--batch-size', options.batchSize),
    evalBatchSize: positiveInt('--eval-batch-size', options.evalBatchSize),
    scoreShards: positiveInt('--score-shards', options.scoreShards),
    layerShards: positiveInt('--layer-shards', options.layerShards),
    replicas: positiveInt('--replicas', options.replicas),
    repetitions: positiveInt('--repetitions', options.repetitions),
    maxParallel: positiveInt('--max-parallel', options.maxParallel),
    finetuneSteps: parseNumberFlag('--finetune-steps', options.finetuneSteps, isNonNegativeInteger, 'a non-negative integer'),
    finetuneLr: parseNumberFlag('--finetune-lr', options.finetuneLr, isPositive, 'a positive number'),
    seed: parseNumberFlag('--seed', options.seed, Number.isInteger, 'an integer'),
    maxAccuracyDrop:
      options.maxAccuracyDrop === undefined
        ? undefined
        : parseNumberFlag('--max-accuracy-drop', options.maxAccuracyDrop, (n) => n >= 0 && n < 1, 'a fraction in [0, 1)'),
  };
}

function parsePlanFlags(options: PruneOptions): Omit<PruneWorkflowInput['plan'], 'target' | 'rounds'> {
  const schedule = oneOf<RemovalSchedule>('--schedule', options.schedule, ['linear', 'geometric']);
  const ranking = oneOf<Ranking>('--ranking', options.ranking, ['global', 'uniform']);
  return {
    schedule,
    ranking,
    maxLayerRatio: parseNumberFlag('--max-layer-ratio', options.maxLayerRatio, (n) => n > 0 && n <= 1, 'a fraction in (0, 1]'),
    minChannels: parseNumberFlag('--min-channels', options.minChannels, isPositiveInteger, 'a positive integer'),
    ...(options.roundTo === undefined
      ? {}
      : { roundTo: parseNumberFlag('--round-to', options.roundTo, isPositiveInteger, 'a positive integer') }),
    ...(options.ignoreLayers === undefined ? {} : { ignoredLayers: options.ignoreLayers.split(',').filter(Boolean) }),
  };
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return match;
}

/** Written next to the destination, then renamed, so --out never holds a half-written result. */
async function writeResult(out: string, modelBytes: Uint8Array, summary: PruneWorkflowResult, report: Record<string, string> = {}): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const staging = `${out}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    writeModelArtifactToDir(modelBytes, staging);
    await writeFile(join(staging, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    for (const [name, content] of Object.entries(report)) await writeFile(join(staging, name), content);
    await rm(out, { recursive: true, force: true });
    await rename(staging, out);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
