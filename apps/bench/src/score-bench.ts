import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { buildChannelGraph } from '@ippro/graph';
import { accumulateGradStats } from '@ippro/importance';
import { initRuntime } from '@ippro/runtime';
import { parseBenchOptions } from './bench-options';
import { createResNetWorkload } from './resnet-workload';
import { median, timeAlternately } from './timing';

/**
 * Gradient-statistics throughput of ResNet-20 on wasm in one process, against a plain
 * training step on the same batch (the floor: scoring at most 15% slower). Usage:
 *   node apps/bench/dist/score-bench.js [--out bench-results/score.json] [--batch 128] [--runs 5]
 */
async function main(): Promise<void> {
  const options = parseBenchOptions(['--out', 'bench-results/score.json', ...process.argv.slice(2)]);
  const runtime = await initRuntime({ backend: 'wasm' });
  const workload = createResNetWorkload(options.wasmBatch, options.seed);
  const graph = buildChannelGraph(workload.model);
  const batch = { inputs: workload.images, labels: workload.labels };
  const score = async (): Promise<void> => {
    await accumulateGradStats(workload.model, graph, [batch], { datasetId: 'bench', modelHash: 'bench' });
  };
  const times = await timeAlternately(workload.trainStep, score, options.warmupRuns, options.timedRuns);
  const trainMs = median(times.firstMs);
  const scoreMs = median(times.secondMs);
  const report = {
    backend: runtime.backend,
    batch: options.wasmBatch,
    groups: graph.groups.filter((group) => group.prunable).length,
    trainStepMs: trainMs,
    scoringBatchMs: scoreMs,
    scoringImagesPerSecond: (options.wasmBatch * 1000) / scoreMs,
    trainingImagesPerSecond: (options.wasmBatch * 1000) / trainMs,
    /** Negative when scoring costs less than a training step (inference-mode batch norm, no update). */
    overhead: scoreMs / trainMs - 1,
    trainStepRunsMs: times.firstMs,
    scoringRunsMs: times.secondMs,
    floor: 0.15,
  };
  console.log(formatReport(report));
  mkdirSync(dirname(options.outPath), { recursive: true });
  writeFileSync(options.outPath, `${JSON.stringify({ measuredAt: new Date().toISOString(), options, ...report }, null, 2)}\n`);
  console.log(`\nwrote ${options.outPath}`);
  workload.dispose();
}

function formatReport(report: {
  batch: number;
  groups: number;
  trainStepMs: number;
  scoringBatchMs: number;
  scoringImagesPerSecond: number;
  trainingImagesPerSecond: number;
  overhead: number;
}): string {
  const row = (name: string, ms: number, perSecond: number): string =>
    `${name.padEnd(28)} ${ms.toFixed(1).padStart(9)} ${perSecond.toFixed(1).padStart(10)}`;
  return [
    `ResNet-20, batch ${report.batch}, wasm, one process; ${report.groups} prunable groups`,
    `${'workload'.padEnd(28)} ${'ms'.padStart(9)} ${'images/s'.padStart(10)}`,
    row('training step (SGD)', report.trainStepMs, report.trainingImagesPerSecond),
    row('gradient statistics', report.scoringBatchMs, report.scoringImagesPerSecond),
    `scoring overhead over a training step: ${(report.overhead * 100).toFixed(1)}% (floor: at most 15%)`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
