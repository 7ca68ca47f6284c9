import { parseBenchOptions } from './bench-options';
import type { BenchOptions } from './bench-options';

/** Parts of bench:runtime that --skip can leave out. */
export const RUNTIME_PARTS = ['wasm', 'cpu', 'native', 'stock', 'pytorch'] as const;
export type RuntimePart = (typeof RUNTIME_PARTS)[number];

export interface RuntimeBenchOptions extends BenchOptions {
  /** Thread counts for the native and PyTorch runs (each native one in its own process). */
  threads: number[];
  skip: RuntimePart[];
}

function parseThreads(raw: string): number[] {
  const threads = raw.split(',').map(Number);
  if (threads.length === 0 || threads.some((count) => !Number.isInteger(count) || count < 1)) {
    throw new Error(`invalid value '${raw}' for --threads: expected counts like 1,2`);
  }
  return threads;
}

function parseSkip(raw: string): RuntimePart[] {
  return raw.split(',').map((part) => {
    const known = RUNTIME_PARTS.find((candidate) => candidate === part);
    if (known === undefined) throw new Error(`unknown part '${part}' for --skip; known: ${RUNTIME_PARTS.join(', ')}`);
    return known;
  });
}

/** bench:runtime's own flags (--threads 1,2, --skip cpu,stock) and then the shared bench flags. */
export function parseRuntimeBenchOptions(argv: readonly string[]): RuntimeBenchOptions {
  const rest: string[] = [];
  let threads = [1, 2];
  let skip: RuntimePart[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inlineValue] = (argv[i] ?? '').split('=', 2);
    if (flag !== '--threads' && flag !== '--skip') {
      rest.push(argv[i] ?? '');
      continue;
    }
    const raw = inlineValue ?? argv[++i];
    if (raw === undefined) throw new Error(`flag ${flag} needs a value`);
    if (flag === '--threads') threads = parseThreads(raw);
    else skip = parseSkip(raw);
  }
  return { ...parseBenchOptions(rest), threads, skip };
}
