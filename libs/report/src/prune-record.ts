import { DEFAULT_LAMBDA } from '@ippro/importance';
import { statsReading } from '@ippro/pruning';
import { accuracyName } from '@ippro/workflow-core';
import type { ModelOutputKind, PruneWorkflowInput, PruneWorkflowResult, RoundMetrics } from '@ippro/workflow-core';
import { ROUND_TIMING_HEADERS, datasetText, fineTuneText, lossText, numericPathFact, outputText, percent, readingText, recalibrationText, roundTimingCells, withCallerFacts } from './format';
import { scoringRecord } from './group-scores';
import { widthChart } from './layer-widths';
import type { ReadArtifact, RecordTable, RunConfig, RunRecord, ScoringRecord } from './run-record';

export interface PruneRecordContext {
  input: PruneWorkflowInput;
  read: ReadArtifact;
  /** Facts shown first (e.g. the model directory and the dataset specs as the user gave them). */
  facts?: [string, string][];
  title?: string;
  /** The run's effective configuration, shown as a table. */
  config?: RunConfig;
  /** Notes shown first (e.g. that the input model looks untrained). */
  notes?: string[];
}

export const PRUNE_TABLE_HEADERS = ['round', 'groups removed', 'params', 'FLOPs', 'FLOPs kept', 'top-1', 'loss', 'fine-tune loss', ...ROUND_TIMING_HEADERS];

/** The per-round table: round 0 is the input model; the accuracy column is named for the output kind; each round's wall time and images/s per phase close it. */
export function pruneRoundsTable(result: PruneWorkflowResult, output?: ModelOutputKind): RecordTable {
  const flops0 = result.baseline.flops;
  const row = (metrics: RoundMetrics): string[] => [
    String(metrics.round),
    String(metrics.removedGroups),
    String(metrics.params),
    String(metrics.flops),
    percent(metrics.flops / flops0),
    percent(metrics.top1),
    lossText(metrics.loss),
    lossText(metrics.fineTuneLoss),
    ...roundTimingCells(metrics),
  ];
  const headers = PRUNE_TABLE_HEADERS.map((header) => (header === 'top-1' ? accuracyName(output) : header));
  return { title: 'Rounds', headers, rows: [result.baseline, ...result.history].map(row) };
}

/** The model each round scored: round r scores the model round r - 1 left. */
function scoredModelOf(result: PruneWorkflowResult, round: number): string {
  return round <= 1 ? result.baseline.modelArtifactId : (result.history[round - 2]?.modelArtifactId ?? result.baseline.modelArtifactId);
}

async function lastScoringPass(result: PruneWorkflowResult, context: PruneRecordContext): Promise<ScoringRecord | undefined> {
  const last = [...result.history].reverse().find((metrics) => metrics.scoresArtifactId !== undefined);
  if (last === undefined) return undefined;
  return scoringRecord(context.read, {
    modelArtifactId: scoredModelOf(result, last.round),
    ...(last.statsArtifactIds === undefined ? {} : { statsArtifactIds: last.statsArtifactIds }),
    lambda: context.input.lambda ?? DEFAULT_LAMBDA,
    ...(context.input.proscore?.reading === 'trajectory' ? {} : { proscore: statsReading(context.input.proscore) }),
    includeBias: context.input.scoring?.includeBias ?? false,
    round: last.round,
  });
}

/** The report's data for a prune run, read from its result and its artifacts. */
export async function buildPruneRecord(result: PruneWorkflowResult, context: PruneRecordContext): Promise<RunRecord> {
  const { input } = context;
  const target = input.plan.target;
  const facts = withCallerFacts(context.facts, [
    ['criterion', input.criterion],
    ['model output', outputText(input.output)],
    ['target', `${percent(target.fraction)} of ${target.metric} removed in ${input.plan.rounds} round(s), ${input.plan.ranking ?? 'global'} ranking`],
    ['lambda', String(input.lambda ?? DEFAULT_LAMBDA)],
    ...(input.criterion === 'proscore' ? [['PROscore reading', readingText(input.proscore)] as [string, string]] : []),
    ['scoring data', datasetText(input.scoring?.dataset)],
    ['evaluation data', datasetText(input.evaluation.dataset)],
    ['batch-norm recalibration', recalibrationText(input.recalibration)],
    ['fine-tuning', fineTuneText(input.fineTune, `per replica and repetition (${input.fineTune?.replicas ?? 1} x ${input.fineTune?.repetitions ?? 1} per round)`)],
    ['stopped because', result.stoppedBecause + (result.reason === undefined ? '' : ` (${result.reason})`)],
    ['result', `round ${result.resultRound}`],
    ...numericPathFact(result.numericPath),
  ]);
  const rounds = [result.baseline, ...result.history];
  const scoring = await lastScoringPass(result, context);
  const notes: string[] = [...(context.notes ?? [])];
  if (scoring === undefined) notes.push('No round scored the model, so there are no per-group scores.');
  else if (input.proscore?.reading === 'trajectory') {
    notes.push("The run read PROscore's trajectory (a sequential pass without gradient statistics), which is not recomputed here; the score plots show the weight-only criteria.");
  } else if (scoring.groups.every((group) => group.scores.proscore === undefined)) {
    notes.push(`Criterion '${input.criterion}' needs no scoring pass, so PROscore and Taylor are not available; the score plots show the weight-only criteria.`);
  }
  return {
    kind: 'prune',
    title: context.title ?? `ippro prune: ${input.criterion}, ${percent(target.fraction)} of ${target.metric} removed`,
    facts,
    table: pruneRoundsTable(result, input.output),
    accuracyName: accuracyName(input.output),
    accuracy: [
      {
        label: `${accuracyName(input.output)} per round (${input.criterion})`,
        points: rounds.map((metrics) => ({ flopsKept: metrics.flops / result.baseline.flops, top1: metrics.top1, label: `round ${metrics.round}` })),
      },
    ],
    widths: [
      await widthChart(context.read, 'Layer widths: input model and result', [
        { label: 'input model', modelArtifactId: result.baseline.modelArtifactId },
        { label: `result (round ${result.resultRound})`, modelArtifactId: result.modelArtifactId },
      ]),
    ],
    ...(scoring === undefined ? {} : { scoring }),
    notes,
    ...(context.config === undefined ? {} : { config: context.config }),
  };
}
