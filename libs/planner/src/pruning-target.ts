import type { ModelCost } from '@ippro/graph';

/** What a run reduces: parameters, FLOPs (counted as multiply-accumulates) or unit channels. */
export type TargetMetric = 'params' | 'flops' | 'channels';

/** Remove `fraction` of the ORIGINAL model's `metric` by the end of the run. */
export interface PruningTarget {
  metric: TargetMetric;
  /** Strictly between 0 and 1. */
  fraction: number;
}

const TARGET_METRICS: readonly TargetMetric[] = ['params', 'flops', 'channels'];

export function isTargetMetric(value: string): value is TargetMetric {
  return (TARGET_METRICS as readonly string[]).includes(value);
}

/** Throws a clear error when the target cannot be planned for. */
export function validateTarget(target: PruningTarget): void {
  if (!isTargetMetric(target.metric)) {
    throw new Error(
      `target.metric must be one of ${TARGET_METRICS.join(', ')}, got ${JSON.stringify(target.metric)}`,
    );
  }
  const { fraction } = target;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw new Error(`target.fraction must be a number strictly between 0 and 1, got ${String(fraction)}`);
  }
}

/**
 * Parses the CLI form `<metric>:<fraction>`, e.g. `flops:0.5`. A percentage such as `flops:50%`
 * is accepted too because that is how pruning results are usually quoted.
 */
export function parseTarget(text: string): PruningTarget {
  const match = /^\s*([a-z]+)\s*:\s*([^%\s]+)\s*(%?)\s*$/i.exec(text);
  if (!match) {
    throw new Error(`target must look like "<metric>:<fraction>", e.g. "flops:0.5", got ${JSON.stringify(text)}`);
  }
  const metric = match[1].toLowerCase();
  if (!isTargetMetric(metric)) {
    throw new Error(`target metric must be one of ${TARGET_METRICS.join(', ')}, got ${JSON.stringify(match[1])}`);
  }
  const value = Number(match[2]);
  const target: PruningTarget = { metric, fraction: match[3] === '%' ? value / 100 : value };
  validateTarget(target);
  return target;
}

/** The value of `metric` in a cost; FLOPs are counted as multiply-accumulates. */
export function metricValue(cost: ModelCost, metric: TargetMetric): number {
  switch (metric) {
    case 'params':
      return cost.params;
    case 'flops':
      return cost.macs;
    case 'channels':
      return cost.channels;
  }
}
