import { PHASES } from './e2e-phases';
import type { RoundTimings } from './e2e-phases';

export interface E2eRun {
  workers: number;
  /** The median of the measured rounds. */
  timings: RoundTimings;
  /** Each measured round. */
  rounds: RoundTimings[];
  /** The same round first, on fresh workers (empty caches, kernels not yet set up). */
  firstRound: RoundTimings;
  resultModelArtifactId: string;
  baselineTop1: number;
  resultTop1: number;
  flopsKept: number;
}

export interface E2eFloors {
  /** Largest overhead share of the round (0.05 = 5%). */
  maxOverheadFraction: number;
  /** Smallest scoring speedup from 1 to 2 workers. */
  minScoreSpeedup: number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const share = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;

/** The per-phase table, one column per worker count, then the floors. */
export function e2eTable(runs: readonly E2eRun[], floors: E2eFloors): string {
  const header = ['', ...runs.map((run) => `${run.workers} worker${run.workers === 1 ? '' : 's'}`)];
  const row = (label: string, value: (run: E2eRun) => string): string[] => [label, ...runs.map(value)];
  const rows = [
    header,
    ...PHASES.filter((phase) => runs.some((run) => run.timings.activities[phase].count > 0)).map((phase) =>
      row(phase, (run) => `${seconds(run.timings.phaseMs[phase])} ${share(run.timings.phaseMs[phase], run.timings.roundMs).padStart(6)}`),
    ),
    row('orchestration overhead', (run) => `${seconds(run.timings.overheadMs)} ${share(run.timings.overheadMs, run.timings.roundMs).padStart(6)}`),
    row('round', (run) => seconds(run.timings.roundMs)),
    row('(baseline evaluation)', (run) => seconds(run.timings.baselineMs)),
    row('(same round on fresh workers)', (run) => `${seconds(run.firstRound.roundMs)}, overhead ${share(run.firstRound.overheadMs, run.firstRound.roundMs)}`),
    row('top-1 before -> after', (run) => `${(100 * run.baselineTop1).toFixed(2)}% -> ${(100 * run.resultTop1).toFixed(2)}%`),
  ];
  const widths = header.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? '').length)));
  const lines = rows.map((cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   '));
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('   '));
  for (const check of floorChecks(runs, floors)) lines.push(`${check.what}: ${check.value} (floor ${check.floor}) ${check.pass ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}

export interface FloorCheck {
  what: string;
  value: string;
  floor: string;
  pass: boolean;
}

export function scoreSpeedup(runs: readonly E2eRun[]): number | undefined {
  const one = runs.find((run) => run.workers === 1);
  const two = runs.find((run) => run.workers === 2);
  return one === undefined || two === undefined ? undefined : one.timings.phaseMs.scoring / two.timings.phaseMs.scoring;
}

export function floorChecks(runs: readonly E2eRun[], floors: E2eFloors): FloorCheck[] {
  const checks: FloorCheck[] = runs.map((run) => {
    const fraction = run.timings.overheadMs / run.timings.roundMs;
    return {
      what: `orchestration overhead, ${run.workers} worker(s)`,
      value: `${(100 * fraction).toFixed(1)}% of the round`,
      floor: `at most ${(100 * floors.maxOverheadFraction).toFixed(0)}%`,
      pass: fraction <= floors.maxOverheadFraction,
    };
  });
  const speedup = scoreSpeedup(runs);
  if (speedup !== undefined) {
    checks.push({ what: 'scoring, 2 workers against 1', value: `${speedup.toFixed(2)}x faster`, floor: `at least ${floors.minScoreSpeedup}x`, pass: speedup >= floors.minScoreSpeedup });
  }
  return checks;
}
