import { parseBenchOptions } from './bench-options';
import type { BenchOptions } from './bench-options';

/** Parts of bench:runtime that --skip can leave out. */
export const RUNTIME_PARTS = ['wasm', 'cpu', 'native', 'stock', 'pytorch'] as const;
export type RuntimePart = (typeof RUNTIME_PARTS)[number];

/** Models bench:runtime can measure (--models), each against its PyTorch peer. */
export const RUNTIME_MODELS = ['resnet20', 'vit'] as const;
export type RuntimeModel = (typeof RUNTIME_MODELS)[number];

export interface RuntimeBenchOptions extends BenchOptions {
  /** Thread counts for the native and PyTorch runs (each native one in its own process). */
  threads: number[];
  skip: RuntimePart[];
  /** Measured in this order; the wasm and cpu rows are ResNet-20's alone. */
  models: RuntimeModel[];
}

function parseThreads(raw: string): number[] {
  const threads = raw.split(',').map(Number);
  if (threads.length === 0 || threads.some((count) => !Number.isInteger(count) || count < 1)) {
    throw new Error(`invalid value '${raw}' for --threads: expected counts like 1,2`);
  }
  return threads;
}

/** A comma-separated list of names from `known`, e.g. --skip cpu,stock. */
function parseNames<Name extends string>(raw: string, flag: string, what: string, known: readonly Name[]): Name[] {
  return raw.split(',').map((name) => {
    const found = known.find((candidate) => candidate === name);
    if (found === undefined) throw new Error(`unknown ${what} '${name}' for ${flag}; known: ${known.join(', ')}`);
    return found;
  });
}

const FLAGS = ['--threads', '--skip', '--models'] as const;

/**
 * bench:runtime's own flags (--threads 1,2, --skip cpu,stock, --models resnet20,vit) and
 * then the shared bench flags.
 */
export function parseRuntimeBenchOptions(argv: readonly string[]): RuntimeBenchOptions {
  const rest: string[] = [];
  let threads = [1, 2];
  let skip: RuntimePart[] = [];
  let models: RuntimeModel[] = [...RUNTIME_MODELS];
  for (let i = 0; i < argv.length; i++) {
    const [text, inlineValue] = (argv[i] ?? '').split('=', 2);
    const flag = FLAGS.find((known) => known === text);
    if (flag === undefined) {
      rest.push(argv[i] ?? '');
      continue;
    }
    const raw = inlineValue ?? argv[++i];
    if (raw === undefined) throw new Error(`flag ${flag} needs a value`);
    if (flag === '--threads') threads = parseThreads(raw);
    else if (flag === '--skip') skip = parseNames(raw, flag, 'part', RUNTIME_PARTS);
    else models = [...new Set(parseNames(raw, flag, 'model', RUNTIME_MODELS))];
  }
  return { ...parseBenchOptions(rest), threads, skip, models };
}
