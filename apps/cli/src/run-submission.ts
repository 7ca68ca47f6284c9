import type { WorkflowExecutionDescription } from '@temporalio/client';
import { flagOf } from '@ippro/settings';
import type { EffectiveConfig, SettingSet } from '@ippro/settings';
import type { DatasetRef } from '@ippro/workflow-core';

/**
 * What the submitting command knows about a run that the run's input does not hold, and that its
 * output directory shows: summary.json's `config` and `warnings`, the report's facts (the model
 * and the data as the user named them), compare's command line. The command keeps it with the run
 * as its Temporal memo, so that `ippro watch RUN --out DIR` writes the files the command would have.
 */
export interface RunSubmission {
  /** The submitting command's effective configuration. */
  config: EffectiveConfig;
  /** What looked wrong with the model when the run was submitted. */
  warnings: string[];
  /** The model directory as given (--model). */
  model: string;
  /** Each dataset ref of the input with the spec it was given as (a ref that travels as an artifact names no spec). */
  datasets: GivenDataset[];
  /** The command line that submitted the run, secrets redacted. */
  command: string;
  /** --test-data as given (compare). */
  testData?: string;
}

/** A dataset ref (its spec and artifact id, which name it) and the spec it was given as. */
export interface GivenDataset {
  spec: string;
  artifactId?: string;
  given: string;
}

/** The memo key of the submission: beside other memo entries a cluster's own tooling may set. */
const SUBMISSION_MEMO_KEY = 'ipproSubmission';

/** The run's memo, for startPrune, startCompare and a schedule's firings. */
export function submissionMemo(submission: RunSubmission): Record<string, unknown> {
  return { [SUBMISSION_MEMO_KEY]: submission };
}

/** The submission a run's memo holds; undefined for a run started without one (an older ippro, another client). */
export function submissionOfRun(description: Pick<WorkflowExecutionDescription, 'memo'>): RunSubmission | undefined {
  const memo = description.memo?.[SUBMISSION_MEMO_KEY];
  return isSubmission(memo) ? memo : undefined;
}

function isSubmission(value: unknown): value is RunSubmission {
  if (typeof value !== 'object' || value === null) return false;
  const { config, warnings, model, datasets, command } = value as Partial<Record<keyof RunSubmission, unknown>>;
  return (
    typeof config === 'object' &&
    config !== null &&
    Array.isArray(warnings) &&
    typeof model === 'string' &&
    Array.isArray(datasets) &&
    typeof command === 'string'
  );
}

/** The dataset refs a run's input reads: every part that names data. */
interface InputDatasets {
  scoring?: { dataset: DatasetRef };
  fineTune?: { dataset: DatasetRef };
  recalibration?: { dataset: DatasetRef };
  evaluation: { dataset: DatasetRef };
  test?: { dataset: DatasetRef };
}

/** Each dataset ref of `input` with the spec it was given as (`specOf` of the inputs the command prepared). */
export function givenDatasets(input: InputDatasets, specOf: (ref: DatasetRef) => string): GivenDataset[] {
  const refs = [input.scoring, input.fineTune, input.recalibration, input.evaluation, input.test].flatMap((part) => (part === undefined ? [] : [part.dataset]));
  return refs.map((ref) => ({ spec: ref.spec, ...(ref.artifactId === undefined ? {} : { artifactId: ref.artifactId }), given: specOf(ref) }));
}

/** How a ref reads when nothing tells how it was given: its canonical spec, or the artifact that carries it. */
export function refText(ref: DatasetRef): string {
  return ref.spec === '' ? `dataset artifact ${ref.artifactId ?? ''}` : ref.spec;
}

/** `specOf` back from a submission's datasets (without one: each ref's own text). */
export function specOfGiven(datasets: readonly GivenDataset[] = []): (ref: DatasetRef) => string {
  return (ref) => datasets.find((known) => known.spec === ref.spec && known.artifactId === ref.artifactId)?.given ?? refText(ref);
}

/**
 * The command line as typed (`ippro` and its arguments), shell-quoted, the values of secret
 * settings (an API key, an S3 secret) redacted: it is shown in files and kept in the run's memo,
 * which everyone who can read the cluster's runs sees.
 */
export function commandLine(argv: readonly string[], set: SettingSet): string {
  const secret = new Set(Object.entries(set).flatMap(([name, spec]) => (spec.secret ? [`--${flagOf(name)}`] : [])));
  const quote = (arg: string): string => (/^[\w@%+=:,./[\]-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  const shown = argv.map((arg, index) => {
    const [flag] = arg.split('=', 1);
    if (flag !== undefined && flag !== arg && secret.has(flag)) return `${flag}=<redacted>`;
    return secret.has(argv[index - 1] ?? '') ? '<redacted>' : arg;
  });
  return ['ippro', ...shown].map(quote).join(' ');
}
