import type { ArtifactStorage } from '@ippro/artifact-store';
import { buildSmallCnn } from '@ippro/models';
import type { PruneWorkflowInput } from '@ippro/workflow-core';
import { putModel } from '@ippro/compute-core';

export const SCORING_SPEC = 'synthetic:cifar?n=32&seed=1&classes=10';
export const TUNING_SPEC = 'synthetic:cifar?n=32&seed=2&classes=10';
export const EVALUATION_SPEC = 'synthetic:cifar?n=32&seed=3&classes=10';

/** A tiny conv net (4 and 8 filters): a pruning round takes well under a second on the cpu backend. */
export async function putTinyModel(store: ArtifactStorage, seed = 1): Promise<string> {
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed });
  try {
    return await putModel(store, model);
  } finally {
    model.dispose();
  }
}

/** A run that exercises every fan-out: 2 batch shards x 2 layer shards, 2 replicas x 2 repetitions, 2 evaluation shards. */
export function tinyInput(modelArtifactId: string, overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId,
    criterion: 'proscore',
    lambda: 1,
    scoring: { dataset: { spec: SCORING_SPEC }, batchSize: 8 },
    fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, repetitions: 2, replicas: 2, learningRate: 0.05 },
    evaluation: { dataset: { spec: EVALUATION_SPEC }, batchSize: 8 },
    plan: { target: { metric: 'channels', fraction: 0.3 }, rounds: 2 },
    shards: { batchShards: 2, layerShards: 2, evaluationShards: 2, maxParallel: 2 },
    seed: 7,
    ...overrides,
  };
}
