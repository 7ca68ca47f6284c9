export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function elapsedMs(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Median wall time of `timedRuns` runs after `warmupRuns` untimed ones (kernel setup, heap growth). */
export async function medianRunMs(run: () => Promise<void>, warmupRuns: number, timedRuns: number): Promise<number> {
  for (let i = 0; i < warmupRuns; i++) {
    await run();
  }
  const times: number[] = [];
  for (let i = 0; i < timedRuns; i++) {
    times.push(await elapsedMs(run));
  }
  return median(times);
}

export interface PairedTimes {
  firstMs: number[];
  secondMs: number[];
}

/**
 * Times two workloads alternately, so that on a shared machine both see the same
 * background load and their per-pair ratio stays meaningful when the load drifts.
 */
export async function timeAlternately(
  first: () => Promise<void>,
  second: () => Promise<void>,
  warmupRuns: number,
  timedRuns: number,
): Promise<PairedTimes> {
  for (let i = 0; i < warmupRuns; i++) {
    await first();
    await second();
  }
  const times: PairedTimes = { firstMs: [], secondMs: [] };
  for (let i = 0; i < timedRuns; i++) {
    times.firstMs.push(await elapsedMs(first));
    times.secondMs.push(await elapsedMs(second));
  }
  return times;
}
