import { parseArgs } from 'node:util';

/** `npm run bench:e2e -- [flags]`. */
export interface E2eOptions {
  outPath: string;
  /** Worker counts, each on a fresh stack (default 1 then 2). */
  workers: number[];
  trainSamples: number;
  evalSamples: number;
  finetuneSteps: number;
  /** Measured rounds per worker count (after one on fresh workers); the report takes medians. */
  repeats: number;
  backend: string;
  /** CIFAR-10 directory; default the shared copy, $IPPRO_DATA_DIR, then ~/.cache/ippro/cifar10. */
  dataDir?: string;
}

export const E2E_USAGE = `usage: node apps/bench/dist/e2e-bench.js [--out FILE] [--workers 1,2] [--train-samples N] [--eval-samples N]
       [--finetune-steps K] [--repeats N] [--backend NAME] [--data-dir DIR]`;

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer, got '${text}'`);
  return value;
}

export function parseE2eOptions(argv: readonly string[]): E2eOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      out: { type: 'string' },
      workers: { type: 'string' },
      'train-samples': { type: 'string' },
      'eval-samples': { type: 'string' },
      'finetune-steps': { type: 'string' },
      repeats: { type: 'string' },
      backend: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const workers = (values.workers ?? '1,2').split(',').map((text) => positive('workers', text.trim(), 1));
  return {
    outPath: values.out ?? 'bench-results/e2e.json',
    workers,
    trainSamples: positive('train-samples', values['train-samples'], 5000),
    evalSamples: positive('eval-samples', values['eval-samples'], 2000),
    finetuneSteps: positive('finetune-steps', values['finetune-steps'], 40),
    repeats: positive('repeats', values.repeats, 3),
    backend: values.backend ?? 'auto',
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
  };
}
