import * as tf from '@tensorflow/tfjs-core';
import { countMultiplyAccumulates } from '@ippro/models';
import type { BenchOptions } from './bench-options';
import { createResNetWorkload } from './resnet-workload';
import { median, medianRunMs, timeAlternately } from './timing';
import { KernelTime, profileKernels } from './kernel-profile';

export interface WasmMeasurements {
  batch: number;
  forwardMs: number;
  stepMs: number;
  /** Median over alternating forward/step pairs of step / forward. */
  pairedStepToForwardRatio: number;
  macsPerImage: number;
  parameters: number;
  profile: KernelTime[];
}

export interface CpuMeasurements {
  batch: number;
  stepMs: number;
}

async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new Error(`tfjs backend '${name}' did not start`);
  }
  await tf.ready();
}

export async function measureWasm(options: BenchOptions): Promise<WasmMeasurements> {
  await useBackend('wasm');
  const workload = createResNetWorkload(options.wasmBatch, options.seed);
  const { warmupRuns, timedRuns } = options;
  const { firstMs, secondMs } = await timeAlternately(workload.forward, workload.trainStep, warmupRuns, timedRuns);
  const profile = await profileKernels(workload.trainStep, 'wasm');
  const result = {
    batch: workload.batch,
    forwardMs: median(firstMs),
    stepMs: median(secondMs),
    pairedStepToForwardRatio: median(secondMs.map((step, i) => step / firstMs[i])),
    macsPerImage: countMultiplyAccumulates(workload.model),
    parameters: workload.model.countParams(),
    profile,
  };
  workload.dispose();
  return result;
}

/**
 * Few cpu steps and no warm-up: a step takes tens of seconds, so JIT and setup
 * costs are lost in the noise while each extra run costs a minute of bench time.
 */
export async function measureCpu(options: BenchOptions): Promise<CpuMeasurements> {
  await useBackend('cpu');
  const workload = createResNetWorkload(options.cpuBatch, options.seed);
  const stepMs = await medianRunMs(workload.trainStep, 0, options.cpuRuns);
  workload.dispose();
  return { batch: options.cpuBatch, stepMs };
}
