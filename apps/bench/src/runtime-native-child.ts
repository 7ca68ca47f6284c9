import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '@ippro/runtime';
import { parseBenchOptions } from './bench-options';
import { median, timeAlternately } from './timing';
import { profileKernels } from './kernel-profile';
import { createInterface } from 'node:readline';
import { SERVE_PREFIX } from './runtime-step-server';
import { MODEL_FLAG, RESULT_PREFIX } from './runtime-native';
import type { NativeMeasurement } from './runtime-native';
import { RUNTIME_MODELS } from './runtime-options';
import type { RuntimeModel } from './runtime-options';
import { RUNTIME_WORKLOADS } from './runtime-workloads';
import type { Workload } from './workload';

const STOCK_FLAG = '--stock-kernels';
const SERVE_FLAG = '--serve';

/** Takes `--model NAME` out of argv (default resnet20) and returns the model and the other flags. */
function takeModel(argv: string[]): { model: RuntimeModel; rest: string[] } {
  const at = argv.indexOf(MODEL_FLAG);
  if (at < 0) return { model: 'resnet20', rest: argv };
  const model = RUNTIME_MODELS.find((name) => name === argv[at + 1]);
  if (model === undefined) throw new Error(`${MODEL_FLAG} needs one of ${RUNTIME_MODELS.join(', ')}`);
  return { model, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

/**
 * Loads tfjs-node as tfjs-node alone would (no ippro kernels): the reference point of
 * what the fused training kernels gain.
 */
async function useStockNative(): Promise<string> {
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  // A computed require: tfjs-node is optional and not a dependency of this app.
  const packageName = '@tensorflow/tfjs-node';
  require(packageName);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not start');
  tf.enableProdMode();
  return 'tfjs-node stock kernels';
}

async function useIpproNative(): Promise<string> {
  const runtime = await initRuntime({ backend: 'tensorflow' });
  return runtime.summary;
}

function answer(message: object): void {
  process.stdout.write(`${SERVE_PREFIX}${JSON.stringify(message)}\n`);
}

/** Step-server mode (see StepServer): one step per stdin line, timed, until 'quit'. */
async function serve(workload: Workload, warmupRuns: number): Promise<void> {
  for (let i = 0; i < warmupRuns; i++) {
    await workload.forward();
    await workload.trainStep();
  }
  answer({ ready: true });
  const steps: Record<string, () => Promise<void>> = { forward: workload.forward, train: workload.trainStep };
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'quit') break;
    const step = steps[command];
    if (step === undefined) {
      answer({ error: `unknown command '${command}'` });
      continue;
    }
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await step();
    const used = process.cpuUsage(cpu);
    answer({ ms: Number(process.hrtime.bigint() - start) / 1e6, cpu_ms: (used.user + used.system) / 1000 });
  }
}

/**
 * One native measurement in its own process: libtensorflow fixes its thread pools when
 * it loads, so the parent starts one child per thread count (TF_NUM_INTRAOP_THREADS).
 * Usage: node runtime-native-child.js [--model resnet20|vit] [--stock-kernels] [--serve] [bench flags]
 */
async function main(): Promise<void> {
  const { model, rest: argv } = takeModel(process.argv.slice(2));
  const stock = argv.includes(STOCK_FLAG);
  const options = parseBenchOptions(argv.filter((flag) => flag !== STOCK_FLAG && flag !== SERVE_FLAG));
  const summary = stock ? await useStockNative() : await useIpproNative();
  const workload = RUNTIME_WORKLOADS[model](options.wasmBatch, options.seed);
  if (argv.includes(SERVE_FLAG)) {
    await serve(workload, options.warmupRuns);
    workload.dispose();
    return;
  }
  const stepCpuMs: number[] = [];
  const trainStepCountingCpu = async (): Promise<void> => {
    const before = process.cpuUsage();
    await workload.trainStep();
    const used = process.cpuUsage(before);
    stepCpuMs.push((used.user + used.system) / 1000);
  };
  const { firstMs, secondMs } = await timeAlternately(workload.forward, trainStepCountingCpu, options.warmupRuns, options.timedRuns);
  const profile = await profileKernels(workload.trainStep, 'tensorflow');
  const measurement: NativeMeasurement = {
    summary,
    model,
    trainableParameters: workload.trainableParameters,
    kernels: stock ? 'stock' : 'ippro',
    intraOpThreads: Number(process.env['TF_NUM_INTRAOP_THREADS'] ?? 0),
    batch: workload.batch,
    forwardMs: median(firstMs),
    stepMs: median(secondMs),
    forwardRunsMs: firstMs,
    stepRunsMs: secondMs,
    // CPU time of the process (all threads) per timed training step.
    stepCpuMs: median(stepCpuMs.slice(options.warmupRuns)),
    kernelCount: profile.reduce((sum, kernel) => sum + kernel.calls, 0),
    profile,
  };
  workload.dispose();
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(measurement)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
