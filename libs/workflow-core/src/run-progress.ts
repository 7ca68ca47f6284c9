import type { PrunePhase, PruneCarry, PruneProgress, PruneWorkflowInput, PruneWorkflowResult } from './prune-types';
import { outputOf } from './prune-rounds';
import { roundPhasesOf } from './run-timing';
import type { RoundClock } from './run-timing';

/**
 * The answer of the `progress` query, kept up to date from the round logic's host calls and the
 * round boundaries. The workflow and the in-process run keep it the same way, so both report the
 * same phases, counters and timings.
 */
export class RunProgress {
  private readonly state: PruneProgress;
  private clock: RoundClock | undefined;

  constructor(input: PruneWorkflowInput) {
    const carry = input.carry;
    this.state = {
      ...outputOf(input),
      phase: 'starting',
      round: carry?.round ?? 0,
      rounds: input.plan.rounds,
      shardsDone: 0,
      shardsTotal: 0,
      currentModelArtifactId: carry?.modelArtifactId ?? input.modelArtifactId,
      ...(carry === undefined ? {} : { baseline: carry.baseline }),
      history: carry?.history ?? [],
      paused: carry?.paused ?? false,
      cancelRequested: carry?.cancelRequested ?? false,
      roundPhases: roundPhasesOf(input),
    };
  }

  /** RoundHost.report: the phase and its fan-out counters. */
  report(phase: PrunePhase, shardsDone: number, shardsTotal: number): void {
    Object.assign(this.state, { phase, shardsDone, shardsTotal });
  }

  /** RoundHost.roundStarted: the clock of the round (or the baseline) in progress. */
  roundStarted(clock: RoundClock): void {
    this.clock = clock;
  }

  /** A round boundary: the next round starts from `carry`. */
  atBoundary(carry: PruneCarry, phase: PrunePhase = 'starting'): void {
    this.clock = undefined;
    Object.assign(this.state, {
      phase,
      round: carry.round,
      shardsDone: 0,
      shardsTotal: 0,
      baseline: carry.baseline,
      history: carry.history,
      currentModelArtifactId: carry.modelArtifactId,
    });
  }

  finished(result: PruneWorkflowResult): void {
    this.clock = undefined;
    Object.assign(this.state, {
      phase: 'done',
      shardsDone: 0,
      shardsTotal: 0,
      history: result.history,
      currentModelArtifactId: result.modelArtifactId,
      stoppedBecause: result.stoppedBecause,
    });
  }

  /** The progress now; `flags` are the run's pause and cancel requests as its signals left them. */
  snapshot(flags: { paused: boolean; cancelRequested: boolean }): PruneProgress {
    const work = this.clock?.phaseWork;
    return {
      ...this.state,
      ...flags,
      ...(work === undefined ? {} : { work }),
      ...(this.clock === undefined ? {} : { roundTiming: this.clock.timing() }),
    };
  }
}
