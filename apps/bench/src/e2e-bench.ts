import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { artifactKeyOf } from '@ippro/artifact-store';
import { ArtifactClient } from '@ippro/protocol';
import { cifar10FilesPresent, resolveDataset } from '@ippro/data';
import { datasetToArtifact, modelArtifactFromDir } from '@ippro/model-artifact';
import { connectTemporalClient, startPrune } from '@ippro/orchestration';
import { initRuntime } from '@ippro/runtime';
import type { DatasetRef, PruneWorkflowInput, PruneWorkflowResult, RoundMetrics } from '@ippro/workflow-core';
import { medianTimings, roundTimings } from './e2e-phases';
import type { RoundTimings } from './e2e-phases';
import { E2E_USAGE, parseE2eOptions } from './e2e-options';
import type { E2eOptions } from './e2e-options';
import { e2eTable, floorChecks, scoreSpeedup } from './e2e-report';
import type { E2eFloors, E2eRun } from './e2e-report';
import { startDevStack } from './e2e-stack';

/**
 * One round of pruning the committed small-cifar10 model on real CIFAR-10 through the embedded
 * stack (`ippro dev`: Temporal dev server, artifact service, workers, orchestrator), with 1 and
 * 2 workers, split into scoring, merge, planning, surgery, fine-tuning, evaluation and the
 * orchestration overhead around them (from each run's Temporal history).
 */
const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'apps', 'cli', 'bin', 'ippro.js');
const MODEL = join(ROOT, 'models', 'small-cifar10');
const FLOORS: E2eFloors = { maxOverheadFraction: 0.05, minScoreSpeedup: 1.8 };

function cifar10Dir(options: E2eOptions): string | undefined {
  const candidates = [options.dataDir, resolve(ROOT, '..', 'shared', 'datasets', 'cifar10'), process.env['IPPRO_DATA_DIR'], join(homedir(), '.cache', 'ippro', 'cifar10')];
  return candidates.find((dir): dir is string => dir !== undefined && dir !== '' && cifar10FilesPresent(dir));
}

/** The run: what the demo's first round does, with shards and replicas fixed so 1 and 2 workers give the same model. */
function roundInput(modelArtifactId: string, train: DatasetRef, test: DatasetRef, options: E2eOptions): PruneWorkflowInput {
  return {
    modelArtifactId,
    criterion: 'proscore',
    scoring: { dataset: train, batchSize: 64 },
    fineTune: { dataset: train, batchSize: 64, steps: options.finetuneSteps, repetitions: 1, replicas: 2, learningRate: 0.01, weightDecay: 5e-4 },
    evaluation: { dataset: test, batchSize: 250 },
    plan: { target: { metric: 'flops', fraction: 0.2 }, rounds: 1 },
    shards: { batchShards: 2, layerShards: 1, evaluationShards: 2, maxParallel: 2 },
    seed: 0,
  };
}

function resultMetrics(result: PruneWorkflowResult): RoundMetrics {
  return result.history.find((round) => round.round === result.resultRound) ?? result.baseline;
}

interface BenchStack {
  workers: number;
  /** Runs the round once under `workflowId` and reads its timings from the history. */
  round(workflowId: string): Promise<{ timings: RoundTimings; result: PruneWorkflowResult }>;
  close(): Promise<void>;
}

async function openStack(workers: number, input: PruneWorkflowInput, artifacts: readonly Uint8Array[], options: E2eOptions, dataDir: string): Promise<BenchStack> {
  const stateDir = join(tmpdir(), `ippro-e2e-bench-${process.pid}-${workers}`);
  const stack = await startDevStack({ cli: CLI, stateDir, workers, backend: options.backend, dataDir });
  const store = new ArtifactClient(stack.info.artifacts, { callTimeoutMs: 600_000 });
  const client = await connectTemporalClient({ address: stack.info.temporal.address, namespace: stack.info.temporal.namespace });
  const close = async (): Promise<void> => {
    await client.connection.close();
    store.close();
    await stack.stop();
  };
  try {
    for (const bytes of artifacts) await store.putArtifact(bytes);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    workers,
    async round(workflowId) {
      process.stderr.write(`e2e: ${workers} worker(s) (${stack.info.workers.join(', ')}): ${workflowId}\n`);
      const result = await (await startPrune(client, input, { workflowId, taskQueue: stack.info.taskQueue })).result();
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      return { timings: roundTimings(history.events ?? []), result };
    },
    close,
  };
}

/**
 * Every worker count gets its own stack, all started up front (idle ones cost next to nothing).
 * Each runs the round once on fresh workers, then `options.repeats` times, the stacks taking
 * turns, so that load from elsewhere on the machine drifts over all of them alike; the report
 * takes the median of each number.
 */
async function measure(input: PruneWorkflowInput, artifacts: readonly Uint8Array[], options: E2eOptions, dataDir: string): Promise<E2eRun[]> {
  // One worker per core: a worker's native TensorFlow must not spread over every core.
  process.env['TF_NUM_INTRAOP_THREADS'] ??= '1';
  process.env['TF_NUM_INTEROP_THREADS'] ??= '1';
  const stacks: BenchStack[] = [];
  try {
    for (const workers of options.workers) stacks.push(await openStack(workers, input, artifacts, options, dataDir));
    const first = new Map<number, RoundTimings>();
    for (const stack of stacks) first.set(stack.workers, (await stack.round(`e2e-${stack.workers}-workers-fresh`)).timings);
    const measured = new Map<number, { timings: RoundTimings; result: PruneWorkflowResult }[]>(stacks.map((stack) => [stack.workers, []]));
    for (let repeat = 1; repeat <= options.repeats; repeat += 1) {
      for (const stack of stacks) measured.get(stack.workers)?.push(await stack.round(`e2e-${stack.workers}-workers-${repeat}`));
    }
    return stacks.map((stack) => {
      const rounds = measured.get(stack.workers) ?? [];
      const last = rounds[rounds.length - 1]?.result as PruneWorkflowResult;
      const after = resultMetrics(last);
      return {
        workers: stack.workers,
        timings: medianTimings(rounds.map((round) => round.timings)),
        rounds: rounds.map((round) => round.timings),
        firstRound: first.get(stack.workers) as RoundTimings,
        resultModelArtifactId: last.modelArtifactId,
        baselineTop1: last.baseline.top1,
        resultTop1: after.top1,
        flopsKept: after.flops / last.baseline.flops,
      };
    });
  } finally {
    for (const stack of stacks) await stack.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: E2eOptions;
  try {
    options = parseE2eOptions(argv);
  } catch (error) {
    process.stderr.write(`e2e: ${(error as Error).message}\n${E2E_USAGE}\n`);
    return 2;
  }
  const dataDir = cifar10Dir(options);
  if (dataDir === undefined) {
    process.stderr.write('e2e: CIFAR-10 not found (--data-dir, ../shared/datasets/cifar10, $IPPRO_DATA_DIR, ~/.cache/ippro/cifar10); the benchmark needs the real data\n');
    return 2;
  }
  await initRuntime({ backend: 'cpu' });
  const model = await modelArtifactFromDir(MODEL);
  const train = datasetToArtifact(resolveDataset(`cifar10:train[0:${options.trainSamples}]`, { cifar10Dir: dataDir }));
  const test = datasetToArtifact(resolveDataset(`cifar10:test[0:${options.evalSamples}]`, { cifar10Dir: dataDir }));
  const ref = (bytes: Uint8Array): DatasetRef => ({ spec: '', artifactId: artifactKeyOf(bytes) });
  const input = roundInput(artifactKeyOf(model), ref(train), ref(test), options);
  const loadBefore = loadavg()[0];
  const runs = await measure(input, [model, train, test], options, dataDir);

  process.stdout.write(
    `one round of small-cifar10 on CIFAR-10 train[0:${options.trainSamples}] / test[0:${options.evalSamples}]: proscore, 2 scoring shards, ` +
      `2 replicas x ${options.finetuneSteps} steps, 2 evaluation shards, backend ${options.backend}; medians of ${options.repeats} rounds\n\n${e2eTable(runs, FLOORS)}\n`,
  );
  const identical = new Set(runs.map((run) => run.resultModelArtifactId)).size === 1;
  process.stdout.write(`result model ${identical ? 'identical for every worker count' : 'DIFFERS between worker counts'}\n`);
  mkdirSync(dirname(options.outPath), { recursive: true });
  const report = {
    measuredAt: new Date().toISOString(),
    config: { model: 'models/small-cifar10', ...options, input },
    machine: { loadAverageBefore: loadBefore, loadAverageAfter: loadavg()[0], tfThreadsPerWorker: process.env['TF_NUM_INTRAOP_THREADS'] },
    runs,
    scoreSpeedup: scoreSpeedup(runs) ?? null,
    floors: floorChecks(runs, FLOORS),
    identicalResults: identical,
  };
  writeFileSync(options.outPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`wrote ${options.outPath}\n`);
  return identical ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
