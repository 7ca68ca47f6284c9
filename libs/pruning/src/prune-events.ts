import type { RoundMetrics } from './prune-summary';

export type PrunePhase = 'baseline' | 'score' | 'plan' | 'surgery' | 'fine-tune' | 'evaluate';

/** What a pruning run reports while it works, for progress bars and logs. */
export type PruneEvent =
  | { kind: 'progress'; round: number; phase: PrunePhase; done: number; total: number }
  | { kind: 'round-done'; metrics: RoundMetrics }
  | { kind: 'stopped'; reason: string };

export type PruneEventListener = (event: PruneEvent) => void;
