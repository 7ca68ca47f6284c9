import type { BackendName } from '@ippro/runtime';

/**
 * How many data-parallel processes `ippro train` uses by default on `cores` cores. Measured on
 * 2 cores with ResNet-20, batch 128 (see libs/training/README.md): two processes train 1.7x as
 * fast as one on wasm (one thread per process) and 1.2x as fast on the native backend, whose
 * single process leaves part of the second core idle. A GPU is not shared between processes;
 * the cpu backend is a reference, not a way to train.
 */
export function defaultProcessCount(backend: BackendName, cores: number): number {
  const shares = backend === 'wasm' || backend === 'tensorflow';
  return shares && cores >= 2 ? 2 : 1;
}
