import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '@ippro/runtime';
import { parseBenchOptions } from './bench-options';
import { measureCpu, measureWasm } from './runtime-measurements';
import { buildRuntimeReport, formatRuntimeReport } from './runtime-report';

/**
 * ResNet-20 forward and training-step throughput on the wasm backend (with ippro's
 * training kernels) against the plain cpu backend. Usage:
 *   node apps/bench/dist/runtime-bench.js [--out file.json] [--batch 128] [--cpu-batch 8] [--runs 5] [--cpu-runs 1]
 */
async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  // No debug checks and no banners, as in production.
  tf.enableProdMode();
  registerWasmTrainingKernels();
  const wasm = await measureWasm(options);
  const cpu = await measureCpu(options);
  const report = buildRuntimeReport(wasm, cpu);
  console.log(formatRuntimeReport(report));
  mkdirSync(dirname(options.outPath), { recursive: true });
  const measuredAt = new Date().toISOString();
  writeFileSync(options.outPath, `${JSON.stringify({ measuredAt, options, ...report }, null, 2)}\n`);
  console.log(`\nwrote ${options.outPath}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
