export type {
  CompareFineTune,
  CompareInput,
  ComparePhase,
  CompareProgress,
  CompareResult,
  CompareRow,
  CriterionScores,
  Evaluation,
  ModelMeasure,
} from './compare-types';
export { DEFAULT_MAX_PARALLEL, criterionVariants, resolveCompareSettings } from './compare-settings';
export { needsScoringData, parseCriterionVariant, readsScoringPass, variantReading } from './criterion-variants';
export type { CriterionVariant } from './criterion-variants';
export type { CompareSettings } from './compare-settings';
export { runComparison } from './run-comparison';
export type { CompareHost } from './run-comparison';
export { spreadOf, summariseComparison } from './comparison-summary';
export type { Spread, SummaryRow } from './comparison-summary';
export { comparisonCsv, comparisonDocument, comparisonMarkdown, comparisonTableText, percentText } from './comparison-tables';
export type { TableText } from './comparison-tables';
export { parseCriteriaList, parseFractionList } from './parse-lists';
