import * as tf from '@tensorflow/tfjs-core';

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

/**
 * Per-kernel totals of one profiled run, slowest first. Custom-gradient scopes
 * (e.g. fusedConv2d__op) are not kernels: their time already contains the
 * kernels they ran, so they are left out to avoid counting it twice.
 */
export async function profileKernels(run: () => Promise<void>, backendName: string): Promise<KernelTime[]> {
  const profile = await tf.profile(run);
  const totals = new Map<string, KernelTime>();
  for (const entry of profile.kernels) {
    if (tf.getKernel(entry.name, backendName) === undefined) continue;
    const total = totals.get(entry.name) ?? { kernel: entry.name, ms: 0, calls: 0 };
    total.ms += typeof entry.kernelTimeMs === 'number' ? entry.kernelTimeMs : 0;
    total.calls += 1;
    totals.set(entry.name, total);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}
