import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { measureS3Throughput } from '@ippro/artifact-store/testing';
import { measureArtifactThroughput } from '@ippro/protocol/testing';
import { measureCallOverhead, measureWorkerPeakRss } from '@ippro/compute';

/** The worker entry point, started as a child process (apps are never imported). */
const WORKER_MAIN = resolve(__dirname, '../../worker/dist/main.js');

/**
 * The worker's numbers in one run: artifact transfer of 100 MB over loopback, through the
 * artifact service (floor 200 MB/s) and through the S3 store (SeaweedFS on loopback, multipart
 * put and verified get; floor 150 MB/s), the overhead of one trivial ComputeGradStats call
 * (floor under 20 ms), and the peak RSS of a worker scoring ResNet-20 with batch 128 on wasm
 * (floor under 1.5 GB). Each transfer figure is the best of 3 rounds; the server shares the
 * machine's cores with the client, so the S3 lines carry the load average they ran at.
 * Usage: node apps/bench/dist/worker-bench.js [--out bench-results/worker.json]
 */
async function main(argv: readonly string[]): Promise<void> {
  const outIndex = argv.indexOf('--out');
  const outPath = outIndex >= 0 ? (argv[outIndex + 1] ?? '') : 'bench-results/worker.json';
  const transfer = await measureArtifactThroughput({ bytes: 100_000_000, rounds: 3 });
  const s3 = await measureS3Throughput({ bytes: 100_000_000, rounds: 3 });
  const overhead = await measureCallOverhead({ calls: 50, backend: 'cpu' });
  const rss = await measureWorkerPeakRss({ workerCommand: [process.execPath, WORKER_MAIN], backend: 'wasm', batchSize: 128 });
  const rows: [string, string, string][] = [
    ['artifact put, 100 MB, loopback', `${transfer.putMBps.toFixed(0)} MB/s`, 'at least 200 MB/s'],
    ['artifact get, 100 MB, loopback', `${transfer.getMBps.toFixed(0)} MB/s`, 'at least 200 MB/s'],
    ['S3 store put, 100 MB, SeaweedFS', s3.ran ? `${s3.putMBps.toFixed(0)} MB/s` : 'not run', s3.ran ? `at least 150 MB/s (load average ${s3.loadAverage.toFixed(2)})` : s3.reason],
    ['S3 store get, 100 MB, SeaweedFS', s3.ran ? `${s3.getMBps.toFixed(0)} MB/s` : 'not run', s3.ran ? 'at least 150 MB/s, sha256 verified' : ''],
    ['trivial ComputeGradStats call', `${overhead.medianMs.toFixed(1)} ms (p90 ${overhead.p90Ms.toFixed(1)})`, 'under 20 ms'],
    ['worker peak RSS, ResNet-20 b128 wasm', `${(rss.peakRssBytes / 1e6).toFixed(0)} MB`, 'under 1500 MB'],
  ];
  console.log(rows.map(([what, value, floor]) => `${what.padEnd(38)} ${value.padStart(22)}   ${floor}`).join('\n'));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify({ measuredAt: new Date().toISOString(), transfer, s3, overhead, rss }, null, 2)}\n`);
  console.log(`\nwrote ${outPath}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
