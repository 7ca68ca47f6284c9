import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { BACKEND_NAMES } from '@ippro/runtime';
import type { BackendName } from '@ippro/runtime';
import { findCifar10, measureTraining, trainDataSpec } from './train-measurement';
import type { TrainMeasurement, TrainMeasurementRequest } from './train-measurement';
import { buildTrainReport, formatTrainReport } from './train-report';

/**
 * ResNet-20 training throughput (batch 128, real CIFAR-10) with one process and with the batch
 * shared by two, on the native and the wasm backend, and the input pipeline's share of a step.
 * Each configuration runs in a fresh process; the configurations take turns over several rounds
 * (so drifting background load hits all alike) and each reports its median round. Usage:
 *   node apps/bench/dist/train-bench.js [--out bench-results/train.json] [--steps 16] [--warmup 3]
 *     [--rounds 3] [--backends tensorflow,wasm] [--processes 1,2] [--data-dir DIR]
 */
interface TrainBenchOptions {
  outPath: string;
  timedSteps: number;
  warmupSteps: number;
  rounds: number;
  backends: BackendName[];
  processes: number[];
  dataDir?: string;
}

const MEASURE_FLAG = '--measure';
const DEFAULTS: TrainBenchOptions = {
  outPath: 'bench-results/train.json',
  timedSteps: 16,
  warmupSteps: 3,
  rounds: 3,
  backends: ['tensorflow', 'wasm'],
  processes: [1, 2],
};

function parseOptions(argv: readonly string[]): TrainBenchOptions {
  const options: TrainBenchOptions = { ...DEFAULTS };
  const count = (flag: string, raw: string, min: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`${flag} must be an integer >= ${min}, got '${raw}'`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag = '', inline] = (argv[i] ?? '').split('=', 2);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--out') options.outPath = raw;
    else if (flag === '--steps') options.timedSteps = count(flag, raw, 1);
    else if (flag === '--warmup') options.warmupSteps = count(flag, raw, 0);
    else if (flag === '--rounds') options.rounds = count(flag, raw, 1);
    else if (flag === '--processes') options.processes = raw.split(',').map((text) => count(flag, text, 1));
    else if (flag === '--data-dir') options.dataDir = raw;
    else if (flag === '--backends') {
      options.backends = raw.split(',').map((name) => {
        const backend = BACKEND_NAMES.find((known) => known === name);
        if (backend === undefined) throw new Error(`--backends: unknown backend '${name}' (known: ${BACKEND_NAMES.join(', ')})`);
        return backend;
      });
    } else throw new Error(`unknown flag '${flag}'; known: --out, --steps, --warmup, --rounds, --backends, --processes, --data-dir`);
  }
  return options;
}

/** Runs one configuration in a child process (a fresh tfjs with the backend alone). */
function measureInChild(request: TrainMeasurementRequest): TrainMeasurement {
  const result = spawnSync(process.execPath, [__filename, MEASURE_FLAG, JSON.stringify(request)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !last.startsWith('{')) {
    throw new Error(`measuring ${request.backend} with ${request.processes} process(es) failed (exit ${result.status ?? result.signal})`);
  }
  return JSON.parse(last) as TrainMeasurement;
}

/** The round with the median throughput (lower middle for an even count). */
function medianRound(measurements: readonly TrainMeasurement[]): TrainMeasurement {
  const sorted = [...measurements].sort((a, b) => a.imagesPerSecond - b.imagesPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('no measurement');
  return median;
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === MEASURE_FLAG) {
    const measurement = await measureTraining(JSON.parse(argv[1] ?? '{}') as TrainMeasurementRequest);
    process.stdout.write(`${JSON.stringify(measurement)}\n`);
    return;
  }
  const options = parseOptions(argv);
  const root = join(__dirname, '..', '..', '..');
  const cifar10 = findCifar10(options.dataDir, join(root, '..', 'shared', 'datasets', 'cifar10'));
  if (cifar10.reason !== undefined) console.log(`${cifar10.reason}: training on SYNTHETIC images instead (throughput only, labelled as such)`);
  const base = { batch: 128, warmupSteps: options.warmupSteps, timedSteps: options.timedSteps, seed: 0, ...(cifar10.dir === undefined ? {} : { cifar10Dir: cifar10.dir }) };
  const dataLabel = cifar10.dir === undefined ? `SYNTHETIC ${trainDataSpec(base)} (${cifar10.reason})` : `real CIFAR-10 ${trainDataSpec(base)} from ${cifar10.dir}`;
  const loadBefore = loadavg()[0] ?? 0;
  const configurations = options.backends.flatMap((backend) => options.processes.map((processes) => ({ backend, processes })));
  const rounds: TrainMeasurement[][] = configurations.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    // Every other round in reverse, so no configuration always runs right after the same one.
    const order = configurations.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const { backend, processes } = configurations[i] as (typeof configurations)[number];
      console.log(`round ${round + 1}/${options.rounds}: ${backend}, ${processes} process(es), ${options.warmupSteps} warm-up + ${options.timedSteps} timed steps ...`);
      rounds[i]?.push(measureInChild({ ...base, backend, processes }));
    }
  }
  const report = buildTrainReport(rounds.map(medianRound));
  console.log(`\n${formatTrainReport(report, dataLabel)}`);
  console.log(`cores: ${availableParallelism()}, 1-minute load average before/after: ${loadBefore.toFixed(2)}/${(loadavg()[0] ?? 0).toFixed(2)}`);
  mkdirSync(dirname(options.outPath), { recursive: true });
  const record = {
    measuredAt: new Date().toISOString(),
    options,
    data: dataLabel,
    synthetic: cifar10.dir === undefined,
    cores: availableParallelism(),
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    ...report,
    rounds,
  };
  writeFileSync(options.outPath, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`wrote ${options.outPath}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
