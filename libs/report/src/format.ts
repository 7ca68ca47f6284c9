import type { DatasetRef, ModelOutputKind } from '@ippro/workflow-core';

/** 0.7305 -> "73.05%". */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

export function lossText(loss: number | undefined): string {
  return loss === undefined ? '-' : loss.toFixed(4);
}

export function datasetText(ref: DatasetRef | undefined): string {
  if (ref === undefined) return '-';
  if (ref.spec !== '') return ref.spec;
  return `dataset artifact ${(ref.artifactId ?? '').slice(0, 12)}`;
}

/** The caller's facts first; a fact of the run the caller already stated (by name) is left out. */
export function withCallerFacts(given: readonly [string, string][] | undefined, own: readonly [string, string][]): [string, string][] {
  const stated = new Set((given ?? []).map(([name]) => name));
  return [...(given ?? []), ...own.filter(([name]) => !stated.has(name))];
}

/** The model's output kind as the report states it, with the loss it picked and what its accuracy counts. */
export function outputText(output: ModelOutputKind | undefined): string {
  switch (output) {
    case 'probabilities':
      return 'probabilities (softmax): categorical cross-entropy, top-1';
    case 'logits':
      return 'logits: softmax cross-entropy, top-1';
    case 'sigmoid':
      return 'sigmoid: binary cross-entropy per unit, exact match at 0.5';
    default:
      return 'auto (read from the model)';
  }
}
