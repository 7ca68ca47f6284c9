import type { TrainMeasurement } from './train-measurement';

/** The input pipeline may take at most this share of a training step. */
export const MAX_INPUT_SHARE = 0.1;

export interface TrainReportRow extends TrainMeasurement {
  /** Throughput over the same backend's one-process throughput. */
  speedupOverOneProcess: number;
}

export interface TrainReport {
  rows: TrainReportRow[];
  /** Per backend: the process count with the highest throughput. */
  fastest: Record<string, number>;
  maxInputShare: number;
  inputShareBelowFloor: boolean;
}

export function buildTrainReport(measurements: readonly TrainMeasurement[]): TrainReport {
  const oneProcess = new Map(measurements.filter((m) => m.processes === 1).map((m) => [m.backend, m.imagesPerSecond]));
  const rows = measurements.map((m) => ({ ...m, speedupOverOneProcess: m.imagesPerSecond / (oneProcess.get(m.backend) ?? Number.NaN) }));
  const fastest: Record<string, number> = {};
  for (const row of rows) {
    const best = rows.filter((other) => other.backend === row.backend).reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
    fastest[row.backend] = best.processes;
  }
  const worstShare = Math.max(...rows.map((row) => row.inputShare));
  return { rows, fastest, maxInputShare: MAX_INPUT_SHARE, inputShareBelowFloor: worstShare < MAX_INPUT_SHARE };
}

export function formatTrainReport(report: TrainReport, dataLabel: string): string {
  const header = ['backend', 'processes', 'img/s', 'vs 1 process', 'step ms', 'input ms/step', 'input share', 'pipeline alone ms/batch'];
  const body = report.rows.map((row) => [
    row.backend,
    String(row.processes),
    row.imagesPerSecond.toFixed(1),
    `${row.speedupOverOneProcess.toFixed(2)}x`,
    row.stepMs.toFixed(0),
    row.inputMsPerStep.toFixed(1),
    `${(100 * row.inputShare).toFixed(1)}%`,
    row.pipelineAloneMsPerBatch.toFixed(1),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const fastest = Object.entries(report.fastest).map(([backend, processes]) => `${backend}: ${processes}`).join(', ');
  return [
    `ResNet-20, batch 128, data: ${dataLabel}`,
    line(header),
    ...body.map(line),
    `fastest process count per backend: ${fastest}`,
    `input pipeline share of a step: at most ${(100 * Math.max(...report.rows.map((row) => row.inputShare))).toFixed(1)}% ` +
      `(floor: below ${100 * report.maxInputShare}%: ${report.inputShareBelowFloor ? 'met' : 'NOT met'})`,
  ].join('\n');
}
