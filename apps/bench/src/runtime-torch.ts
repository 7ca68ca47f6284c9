import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VIT_DEFAULTS, VIT_LAYER_NORM_EPSILON } from '@ippro/models';
import type { BenchOptions } from './bench-options';
import type { RuntimeModel } from './runtime-options';

/** The PyTorch peer's numbers for one thread count (see apps/bench/python/torch_peer.py). */
export interface TorchPhase {
  median_s: number;
  img_per_s: number;
  best_img_per_s: number;
  cpu_s: number;
  img_per_cpu_s: number;
}

export interface TorchMeasurement {
  torch: string;
  python: string;
  model: string;
  /** The peer's trainable parameter count (its model's flags are echoed in `config`). */
  parameters: number;
  config: Record<string, unknown>;
  /** The BLAS library the process loaded (the matmuls of dense layers and attention run on it). */
  blas: string;
  threads: number;
  batch: number;
  channels_last: boolean;
  waitPolicy: WaitPolicy;
  forward: TorchPhase;
  train: TorchPhase;
}

export type TorchOutcome = { ok: true; measurement: TorchMeasurement } | { ok: false; why: string };

/** Where `npm run setup:bench` puts pip's torch when Debian's python3-torch cannot be installed. */
export const TORCH_VENV = join(process.env['IPPRO_BENCH_CACHE'] ?? join(homedir(), '.cache', 'ippro', 'bench'), 'torch-venv');

/** Interpreters to try, in order: an explicit choice, the system Python (Debian's torch), PATH, the venv. */
export function pythonCandidates(): string[] {
  const chosen = process.env['IPPRO_TORCH_PYTHON'];
  const candidates = [...(chosen ? [chosen] : []), '/usr/bin/python3', 'python3', join(TORCH_VENV, 'bin', 'python')];
  return candidates.filter((python) => !python.startsWith('/') || existsSync(python));
}

/** The torch version `python` imports, or undefined. */
export function torchVersion(python: string): string | undefined {
  const result = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function findTorchPython(): string | undefined {
  return pythonCandidates().find((python) => torchVersion(python) !== undefined);
}

/** Each model's PyTorch peer in apps/bench/python and the flags that give it the tfjs model's dims. */
const TORCH_PEERS: Record<RuntimeModel, { script: string; args: string[] }> = {
  resnet20: { script: 'resnet20_torch.py', args: ['--depth', '20'] },
  vit: {
    script: 'vit_torch.py',
    args: [
      ...['--patch', `${VIT_DEFAULTS.patchSize}`, '--d-model', `${VIT_DEFAULTS.dModel}`, '--depth', `${VIT_DEFAULTS.depth}`],
      ...['--heads', `${VIT_DEFAULTS.numHeads}`, '--mlp-dim', `${VIT_DEFAULTS.mlpDim}`, '--pooling', VIT_DEFAULTS.pooling],
      ...['--layer-norm-eps', `${VIT_LAYER_NORM_EPSILON}`],
    ],
  },
};

/** The command line (after the interpreter) of `model`'s PyTorch peer. */
export function torchScript(model: RuntimeModel): string[] {
  const peer = TORCH_PEERS[model];
  return [join(__dirname, '..', 'python', peer.script), ...peer.args];
}

/** How idle OpenMP threads wait: PyTorch's default spins first; 'passive' sleeps at once. */
export type WaitPolicy = 'default' | 'passive';

/**
 * The environment of a PyTorch run. With other jobs on the cores, spinning OpenMP threads
 * wait for descheduled siblings and a 2-thread step slows 5-10x; passive waiting avoids that,
 * so the benchmark measures both and compares against the faster.
 */
export function torchEnv(threads: number, policy: WaitPolicy): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: `${threads}`, MKL_NUM_THREADS: `${threads}`, OPENBLAS_NUM_THREADS: `${threads}` };
  if (policy === 'passive') env['OMP_WAIT_POLICY'] = 'PASSIVE';
  else delete env['OMP_WAIT_POLICY'];
  return env;
}

/**
 * Runs `model`'s PyTorch peer (same network, batch, SGD step) with `threads` threads, in
 * PyTorch's default NCHW layout or channels-last (NHWC, tfjs' layout).
 */
export function measureTorch(python: string, options: BenchOptions, model: RuntimeModel, threads: number, channelsLast: boolean, policy: WaitPolicy): TorchOutcome {
  const args = [
    ...torchScript(model),
    '--threads',
    `${threads}`,
    '--batch',
    `${options.wasmBatch}`,
    '--iters',
    `${options.timedRuns}`,
    '--warmup',
    `${options.warmupRuns}`,
    ...(channelsLast ? ['--channels-last'] : []),
  ];
  const result = spawnSync(python, args, { env: torchEnv(threads, policy), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    return { ok: false, why: (result.stderr || `exit ${result.status}`).trim().split('\n').pop() ?? '' };
  }
  const parsed = JSON.parse(line) as Omit<TorchMeasurement, 'python' | 'waitPolicy'>;
  return { ok: true, measurement: { ...parsed, python, waitPolicy: policy } };
}
