import type { RuntimeModel } from './runtime-options';
import { createResNetWorkload } from './resnet-workload';
import { createVitWorkload } from './vit-workload';
import type { Workload } from './workload';

/** The tfjs side of each model bench:runtime measures. */
export const RUNTIME_WORKLOADS: Record<RuntimeModel, (batch: number, seed: number) => Workload> = {
  resnet20: createResNetWorkload,
  vit: createVitWorkload,
};
