import { join } from 'node:path';
import { measureCallOverhead, measureWorkerPeakRss } from '@ippro/compute';

/**
 * The worker's two benchmark numbers, printed as one JSON line:
 *   - the wall time of one trivial ComputeGradStats call (floor: under 20 ms), and
 *   - the peak RSS of a worker process scoring ResNet-20 with batch 128 on wasm (floor: under 1.5 GB).
 * Usage: node apps/worker/dist/worker-bench.js [--backend wasm] [--batch 128] [--calls 50]
 */
async function main(argv: readonly string[]): Promise<void> {
  const flag = (name: string, fallback: string): string => {
    const index = argv.indexOf(name);
    return index >= 0 ? (argv[index + 1] ?? fallback) : fallback;
  };
  const overhead = await measureCallOverhead({ calls: Number(flag('--calls', '50')), backend: 'cpu' });
  const rss = await measureWorkerPeakRss({
    workerCommand: [process.execPath, join(__dirname, 'main.js')],
    backend: flag('--backend', 'wasm') as 'wasm',
    batchSize: Number(flag('--batch', '128')),
  });
  const report = {
    trivialCallMs: overhead.medianMs,
    trivialCallP90Ms: overhead.p90Ms,
    trivialCallFloorMs: 20,
    peakRssMB: Math.round(rss.peakRssBytes / 1e6),
    idleRssMB: Math.round(rss.idleRssBytes / 1e6),
    peakRssFloorMB: 1500,
    scoringCallMs: rss.callMs,
    backend: rss.backend,
    batchSize: rss.batchSize,
    pass: overhead.medianMs < 20 && rss.peakRssBytes < 1.5e9,
  };
  console.log(JSON.stringify(report));
  if (!report.pass) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
