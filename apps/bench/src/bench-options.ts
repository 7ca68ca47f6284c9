export interface BenchOptions {
  /** Where the JSON results go. */
  outPath: string;
  wasmBatch: number;
  /** The cpu backend is ~300x slower, so it trains a smaller batch that is scaled up. */
  cpuBatch: number;
  /** Timed cpu steps; each takes tens of seconds, so one is the default and none is warm-up. */
  cpuRuns: number;
  warmupRuns: number;
  timedRuns: number;
  seed: number;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  outPath: 'bench-results/runtime.json',
  wasmBatch: 128,
  cpuBatch: 8,
  cpuRuns: 1,
  warmupRuns: 2,
  timedRuns: 5,
  seed: 1,
};

const FLAGS: Record<string, keyof BenchOptions> = {
  '--out': 'outPath',
  '--batch': 'wasmBatch',
  '--cpu-batch': 'cpuBatch',
  '--cpu-runs': 'cpuRuns',
  '--warmup': 'warmupRuns',
  '--runs': 'timedRuns',
  '--seed': 'seed',
};

function parseValue(key: keyof BenchOptions, raw: string): string | number {
  if (key === 'outPath') return raw;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < (key === 'warmupRuns' ? 0 : 1)) {
    throw new Error(`invalid value '${raw}' for ${key}`);
  }
  return value;
}

/** Parses `--flag value` and `--flag=value` pairs; unknown flags are errors so typos do not go unnoticed. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const options: Record<string, string | number> = { ...DEFAULT_BENCH_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inlineValue] = argv[i].split('=', 2);
    const key = FLAGS[flag];
    if (key === undefined) {
      throw new Error(`unknown flag '${flag}'; known: ${Object.keys(FLAGS).join(', ')}`);
    }
    const raw = inlineValue ?? argv[++i];
    if (raw === undefined) throw new Error(`flag ${flag} needs a value`);
    options[key] = parseValue(key, raw);
  }
  return options as unknown as BenchOptions;
}
