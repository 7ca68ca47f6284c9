/**
 * How the run's target is spread over rounds. Both reach exactly the target fraction at the
 * last round.
 * - `linear`: the same share of the ORIGINAL metric is removed every round.
 * - `geometric`: the same share of what is LEFT is removed every round, so early rounds,
 *   which have the most redundancy to spare, remove the most in absolute terms.
 */
export type RemovalSchedule = 'linear' | 'geometric';

const SCHEDULES: readonly RemovalSchedule[] = ['linear', 'geometric'];

function validateRounds(round: number, rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`rounds must be an integer >= 1, got ${String(rounds)}`);
  }
  if (!Number.isInteger(round) || round < 1 || round > rounds) {
    throw new Error(`round must be an integer from 1 to rounds (${rounds}), got ${String(round)}`);
  }
}

/**
 * The fraction of the original metric that must be removed once round `round` (1-based) of
 * `rounds` is done: linear f*r/R, geometric 1-(1-f)^(r/R).
 */
export function cumulativeGoalFraction(
  fraction: number,
  round: number,
  rounds: number,
  schedule: RemovalSchedule,
): number {
  validateRounds(round, rounds);
  if (!SCHEDULES.includes(schedule)) {
    throw new Error(`schedule must be one of ${SCHEDULES.join(', ')}, got ${JSON.stringify(schedule)}`);
  }
  // The last round must hit the target exactly, without floating-point drift.
  if (round === rounds) {
    return fraction;
  }
  if (schedule === 'linear') {
    return (fraction * round) / rounds;
  }
  return 1 - Math.pow(1 - fraction, round / rounds);
}
