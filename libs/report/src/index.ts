export { SCORE_NAMES } from './run-record';
export type {
  AccuracyPoint,
  AccuracySeries,
  GroupScores,
  ReadArtifact,
  RecordTable,
  RunConfig,
  RunRecord,
  ScoreName,
  ScoringRecord,
  WidthChart,
} from './run-record';
export { scoringRecord } from './group-scores';
export type { ScoringPassOptions } from './group-scores';
export { unitLayerWidths, widthChart } from './layer-widths';
export { PRUNE_TABLE_HEADERS, buildPruneRecord, pruneRoundsTable } from './prune-record';
export type { PruneRecordContext } from './prune-record';
export { buildCompareRecord } from './compare-record';
export type { CompareRecordContext } from './compare-record';
export { renderReportHtml } from './render-report';
export { COMPARISON_FILES, REPORT_FILES, comparisonFiles, readRunRecord, reportFiles, writeFiles, writeReportHtml } from './write-run-files';
export { ROUND_TIMING_HEADERS, formatDuration, roundTimingCells } from './format';
