import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '@ippro/runtime';
import { measureCpu, measureWasm } from './runtime-measurements';
import { buildRuntimeReport, formatRuntimeReport } from './runtime-report';
import { parseRuntimeBenchOptions } from './runtime-options';
import type { RuntimeBenchOptions, RuntimeModel } from './runtime-options';
import { measureNative } from './runtime-native';
import { measureTorch } from './runtime-torch';
import { ensureTorchPython } from './runtime-torch-setup';
import { measurePairedTrain } from './runtime-paired';
import { buildNativeComparison, fasterPolicies, formatNativeComparison, MODEL_LABELS, nativeRow, parameterCounts, torchRow } from './runtime-comparison';
import type { ComparisonInputs, NativeComparison } from './runtime-comparison';

function log(line: string): void {
  console.error(`[bench:runtime] ${line}`);
}

/** Both sides' rows so far, for the parameter check before the alternated steps. */
function sameParameters(inputs: ComparisonInputs): boolean {
  const native = inputs.native.flatMap(({ outcome }) => (outcome.ok ? [nativeRow(outcome.measurement)] : []));
  const pytorch = inputs.pytorch.flatMap(({ outcome }) => (outcome.ok ? [torchRow(outcome.measurement)] : []));
  return parameterCounts(native, pytorch).same;
}

/**
 * For each thread count, back to back so that they share the machine's load: tfjs native
 * with ippro's kernels (a child process each), PyTorch in both layouts, the two alternated
 * step by step (when the two have the same parameter count), and tfjs-node's own kernels.
 */
async function measurePeers(options: RuntimeBenchOptions, model: RuntimeModel, python: string | undefined): Promise<ComparisonInputs> {
  const inputs: ComparisonInputs = { native: [], pytorch: [], paired: [], notRun: [] };
  const skip = new Set(options.skip);
  if (!skip.has('pytorch') && python === undefined) {
    inputs.notRun.push('pytorch: no Python with torch, and neither apt-get nor pip could install one (npm run setup:bench)');
  }
  const title = MODEL_LABELS[model].title;
  const runNative = (threads: number, kernels: 'ippro' | 'stock'): void => {
    log(`${title}: native, ${kernels} kernels, ${threads} intra-op thread(s)`);
    inputs.native.push({ threads, kernels, outcome: measureNative(options, model, threads, kernels) });
  };
  for (const threads of options.threads) {
    if (!skip.has('native')) runNative(threads, 'ippro');
    // One thread has no OpenMP workers to wait, so the wait policy matters from two on.
    const policies = threads > 1 ? (['default', 'passive'] as const) : (['default'] as const);
    for (const layout of python === undefined ? [] : (['nchw', 'channels_last'] as const)) {
      for (const waitPolicy of policies) {
        log(`${title}: pytorch, ${layout}, ${waitPolicy} OpenMP wait, ${threads} thread(s)`);
        const outcome = measureTorch(python ?? '', options, model, threads, layout === 'channels_last', waitPolicy);
        inputs.pytorch.push({ threads, layout, waitPolicy, outcome });
      }
    }
    if (!skip.has('native') && python !== undefined && sameParameters(inputs)) {
      log(`${title}: alternated training steps, tfjs native and pytorch, ${threads} thread(s)`);
      const rows = inputs.pytorch.flatMap(({ outcome }) => (outcome.ok ? [torchRow(outcome.measurement)] : []));
      inputs.paired.push({ threads, outcome: await measurePairedTrain(python, options, model, threads, fasterPolicies(rows, threads)) });
    }
    if (!skip.has('native') && !skip.has('stock')) runNative(threads, 'stock');
  }
  return inputs;
}

/**
 * Forward and training-step throughput, batch 128: ResNet-20 on the wasm backend (with
 * ippro's training kernels) against the plain cpu backend, then for each model (ResNet-20,
 * the zoo's ViT) the native backend (libtensorflow, with ippro's kernels and with
 * tfjs-node's own, each thread count in its own process) against the same model in PyTorch
 * on the CPU at equal threads. Usage:
 *   node apps/bench/dist/runtime-bench.js [--models resnet20,vit] [--threads 1,2]
 *     [--skip cpu,wasm,native,stock,pytorch] [--out file.json] [--batch 128] [--cpu-batch 8]
 *     [--runs 5] [--cpu-runs 1]
 */
async function main(): Promise<void> {
  const options = parseRuntimeBenchOptions(process.argv.slice(2));
  // No debug checks and no banners, as in production.
  tf.enableProdMode();
  registerWasmTrainingKernels();
  const skip = new Set(options.skip);
  const resnet = options.models.includes('resnet20');
  const wasm = skip.has('wasm') || !resnet ? undefined : await measureWasm(options);
  const cpu = skip.has('cpu') || wasm === undefined ? undefined : await measureCpu(options);
  const report = wasm === undefined ? undefined : buildRuntimeReport(wasm, cpu);
  if (report !== undefined) console.log(`${formatRuntimeReport(report)}\n`);
  const python = skip.has('pytorch') ? undefined : ensureTorchPython(log);
  const nativeComparisons: Partial<Record<RuntimeModel, NativeComparison>> = {};
  for (const model of options.models) {
    const comparison = buildNativeComparison(model, await measurePeers(options, model, python), options.threads);
    nativeComparisons[model] = comparison;
    console.log(`${formatNativeComparison(comparison)}\n`);
  }
  mkdirSync(dirname(options.outPath), { recursive: true });
  const measuredAt = new Date().toISOString();
  writeFileSync(options.outPath, `${JSON.stringify({ measuredAt, options, ...report, nativeComparisons }, null, 2)}\n`);
  console.log(`wrote ${options.outPath}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
