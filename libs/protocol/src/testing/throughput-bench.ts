// `node libs/protocol/dist/testing/throughput-bench.js [MB] [rounds]`: artifact Put/Get throughput over
// loopback, printed as one JSON line (for `npm run bench:worker`).
import { measureArtifactThroughput } from './throughput';

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 100);
  const rounds = Number(process.argv[3] ?? 3);
  if (!Number.isFinite(megabytes) || megabytes <= 0 || !Number.isInteger(rounds) || rounds <= 0) {
    throw new Error('usage: throughput-bench [MB > 0] [rounds >= 1]');
  }
  const result = await measureArtifactThroughput({ bytes: Math.round(megabytes * 1e6), rounds });
  console.log(JSON.stringify({ bench: 'artifact-throughput', ...result }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
