import type { CpuMeasurements, WasmMeasurements } from './runtime-measurements';
import type { KernelTime } from './kernel-profile';

// One training step costs about three forward passes: forward, input gradient, weight gradient.
const TRAINING_FLOPS_PER_FORWARD = 3;
const TOP_KERNELS = 12;

export const FLOORS = { maxStepToForwardRatio: 4, minWasmOverCpuTrainingSpeedup: 50 };

export interface RuntimeReport {
  model: { name: string; parameters: number; macsPerImage: number };
  wasm: {
    batch: number;
    forwardMs: number;
    forwardImagesPerSec: number;
    forwardGflops: number;
    stepMs: number;
    trainImagesPerSec: number;
    trainGflops: number;
    stepToForwardRatio: number;
    /** Median of step/forward over alternating runs; robust to drifting background load. */
    pairedStepToForwardRatio: number;
  };
  /** Absent when the cpu run was skipped (bench:runtime --skip cpu). */
  cpu?: { batch: number; stepMs: number; stepMsScaledToWasmBatch: number; trainImagesPerSec: number };
  wasmOverCpuTrainingSpeedup?: number;
  floors: typeof FLOORS;
  meetsFloors: { stepToForwardRatio: boolean; wasmOverCpuTrainingSpeedup?: boolean };
  wasmTrainingStepProfile: (KernelTime & { share: number })[];
}

function gflops(flopsPerImage: number, images: number, ms: number): number {
  return (flopsPerImage * images) / (ms * 1e6);
}

function topKernels(profile: KernelTime[]): (KernelTime & { share: number })[] {
  const total = profile.reduce((sum, k) => sum + k.ms, 0);
  return profile.slice(0, TOP_KERNELS).map((k) => ({ ...k, share: total > 0 ? k.ms / total : 0 }));
}

function cpuPart(wasm: WasmMeasurements, cpu: CpuMeasurements | undefined): Pick<RuntimeReport, 'cpu' | 'wasmOverCpuTrainingSpeedup'> {
  if (cpu === undefined) return {};
  const cpuPerImageMs = cpu.stepMs / cpu.batch;
  return {
    cpu: {
      batch: cpu.batch,
      stepMs: cpu.stepMs,
      stepMsScaledToWasmBatch: cpuPerImageMs * wasm.batch,
      trainImagesPerSec: 1000 / cpuPerImageMs,
    },
    wasmOverCpuTrainingSpeedup: cpuPerImageMs / (wasm.stepMs / wasm.batch),
  };
}

export function buildRuntimeReport(wasm: WasmMeasurements, cpu?: CpuMeasurements): RuntimeReport {
  const forwardFlopsPerImage = 2 * wasm.macsPerImage;
  const trainFlopsPerImage = TRAINING_FLOPS_PER_FORWARD * forwardFlopsPerImage;
  const { forwardMs, stepMs } = wasm;
  const stepToForwardRatio = stepMs / forwardMs;
  const { cpu: cpuReport, wasmOverCpuTrainingSpeedup: speedup } = cpuPart(wasm, cpu);
  return {
    model: { name: 'resnet20_cifar', parameters: wasm.parameters, macsPerImage: wasm.macsPerImage },
    wasm: {
      batch: wasm.batch,
      forwardMs,
      forwardImagesPerSec: (1000 * wasm.batch) / forwardMs,
      forwardGflops: gflops(forwardFlopsPerImage, wasm.batch, forwardMs),
      stepMs,
      trainImagesPerSec: (1000 * wasm.batch) / stepMs,
      trainGflops: gflops(trainFlopsPerImage, wasm.batch, stepMs),
      stepToForwardRatio,
      pairedStepToForwardRatio: wasm.pairedStepToForwardRatio,
    },
    ...(cpuReport === undefined ? {} : { cpu: cpuReport, wasmOverCpuTrainingSpeedup: speedup }),
    floors: FLOORS,
    meetsFloors: {
      stepToForwardRatio: stepToForwardRatio <= FLOORS.maxStepToForwardRatio,
      ...(speedup === undefined ? {} : { wasmOverCpuTrainingSpeedup: speedup >= FLOORS.minWasmOverCpuTrainingSpeedup }),
    },
    wasmTrainingStepProfile: topKernels(wasm.profile),
  };
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
}

function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}

export function formatRuntimeReport(report: RuntimeReport): string {
  const { wasm, cpu } = report;
  const widths = [26, 10, 10, 9, 9];
  const lines = [
    `ResNet-20 (CIFAR-10, ${report.model.parameters} parameters, ${fixed(report.model.macsPerImage / 1e6)} M MACs/image)`,
    row(['', 'batch', 'ms', 'images/s', 'GFLOP/s'], widths),
    row(['wasm forward', wasm.batch, fixed(wasm.forwardMs), fixed(wasm.forwardImagesPerSec), fixed(wasm.forwardGflops)], widths),
    row(['wasm training step', wasm.batch, fixed(wasm.stepMs), fixed(wasm.trainImagesPerSec), fixed(wasm.trainGflops)], widths),
    ...(cpu === undefined
      ? []
      : [
          row([`cpu training step`, cpu.batch, fixed(cpu.stepMs), fixed(cpu.trainImagesPerSec, 2), ''], widths),
          row([`cpu step scaled to ${wasm.batch}`, wasm.batch, fixed(cpu.stepMsScaledToWasmBatch), '', ''], widths),
        ]),
    '',
    `step/forward ratio (wasm): ${fixed(wasm.stepToForwardRatio, 2)}  (floor <= ${report.floors.maxStepToForwardRatio}) ${report.meetsFloors.stepToForwardRatio ? 'ok' : 'MISSED'}`,
    `  (median of per-pair ratios over alternating forward/step runs: ${fixed(wasm.pairedStepToForwardRatio, 2)})`,
    ...(cpu === undefined || report.wasmOverCpuTrainingSpeedup === undefined
      ? ['wasm/cpu training speedup: not measured (--skip cpu)']
      : [
          `wasm/cpu training speedup: ${fixed(report.wasmOverCpuTrainingSpeedup)}x  (floor >= ${report.floors.minWasmOverCpuTrainingSpeedup}x) ${report.meetsFloors.wasmOverCpuTrainingSpeedup ? 'ok' : 'MISSED'}`,
          `  (cpu trained batch ${cpu.batch} and was scaled linearly to ${wasm.batch}; GFLOP/s count 2 FLOPs per MAC, training = 3x forward)`,
        ]),
    '',
    'top kernels of one wasm training step (tf.profile):',
    ...report.wasmTrainingStepProfile.map((k) => row([k.kernel, fixed(k.ms), `${k.calls} calls`, `${fixed(100 * k.share)}%`], [26, 10, 10, 7])),
  ];
  return lines.join('\n');
}
