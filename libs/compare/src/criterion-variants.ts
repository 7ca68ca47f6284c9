import { CRITERION_NAMES, FINE_TUNE_WEIGHT_DECAY, GRADIENT_CRITERION_NAMES, PROSCORE_READINGS, REMOVAL_ORDERS } from '@ippro/workflow-core';
import type { CriterionName, ProscoreConfig } from '@ippro/workflow-core';

/**
 * A criterion as a comparison lists it: its name, and for PROscore a reading.
 *
 *   variant  = criterion [ ":" modifier { "+" modifier } ]
 *   modifier = "pooled" | "per-batch" | "trajectory"     the reading
 *            | "ascending" | "descending"                the end removed first
 *            | "wd" | "wd=" number                       weight decay in the scoring loss:
 *                                                         SGD fine-tuning's default (5e-4), or the number
 *
 * `proscore:per-batch+descending` is the per-batch reading, highest score removed first. Only
 * proscore takes modifiers; each kind at most once. A modifier overrides the run's own setting
 * (`--proscore-reading`, `--proscore-order`, `--proscore-weight-decay`), which plain `proscore`
 * uses. The label, the variant as written, names the variant's rows in every table.
 */
export interface CriterionVariant {
  label: string;
  criterion: CriterionName;
  /** What the modifiers set. */
  modifiers: ProscoreConfig;
}

type ModifierKind = keyof Omit<ProscoreConfig, 'trajectory'>;

const MODIFIER_HELP = `${PROSCORE_READINGS.join(', ')}, ${REMOVAL_ORDERS.join(', ')}, wd, wd=NUMBER`;

/** One modifier: which field it sets, and to what. */
function modifierOf(text: string, label: string): [ModifierKind, ProscoreConfig[ModifierKind]] {
  const reading = PROSCORE_READINGS.find((name) => name === text);
  if (reading !== undefined) return ['reading', reading];
  const order = REMOVAL_ORDERS.find((name) => name === text);
  if (order !== undefined) return ['order', order];
  if (text === 'wd') return ['weightDecay', FINE_TUNE_WEIGHT_DECAY];
  if (text.startsWith('wd=')) {
    const value = Number(text.slice(3));
    if (text.length === 3 || !Number.isFinite(value) || value < 0) throw new Error(`criterion '${label}': ${text} needs a non-negative number, e.g. wd=5e-4`);
    return ['weightDecay', value];
  }
  throw new Error(`criterion '${label}': unknown modifier '${text}'; expected ${MODIFIER_HELP}`);
}

/** Parses `proscore:per-batch+wd` and the like (see CriterionVariant); an Error names what is wrong. */
export function parseCriterionVariant(text: string): CriterionVariant {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const criterion = CRITERION_NAMES.find((candidate) => candidate === name);
  if (criterion === undefined) throw new Error(`unknown criterion '${name}'; expected some of ${CRITERION_NAMES.join(', ')} (proscore with modifiers: proscore:${MODIFIER_HELP.replace(/, /g, '|')})`);
  if (colon < 0) return { label: text, criterion, modifiers: {} };
  if (criterion !== 'proscore') throw new Error(`criterion '${text}': only proscore takes modifiers (its readings), not ${criterion}`);
  const parts = text.slice(colon + 1).split('+');
  const modifiers: ProscoreConfig = {};
  for (const part of parts) {
    if (part === '') throw new Error(`criterion '${text}': an empty modifier; join modifiers with +, e.g. proscore:per-batch+descending`);
    const [kind, value] = modifierOf(part, text);
    if (modifiers[kind] !== undefined) throw new Error(`criterion '${text}': two modifiers set the ${kind === 'weightDecay' ? 'weight decay' : kind}`);
    Object.assign(modifiers, { [kind]: value });
  }
  return { label: text, criterion, modifiers };
}

/** How a variant reads PROscore: the run's reading with the variant's modifiers over it (undefined for other criteria). */
export function variantReading(variant: CriterionVariant, run: ProscoreConfig | undefined): ProscoreConfig | undefined {
  if (variant.criterion !== 'proscore') return undefined;
  const merged: ProscoreConfig = { ...run, ...variant.modifiers };
  // The trajectory's own settings mean something only for the trajectory.
  if (merged.reading !== 'trajectory') delete merged.trajectory;
  return Object.keys(merged).length === 0 ? undefined : merged;
}

/** Whether a variant reads the gradient statistics of the scoring pass (the trajectory takes its own steps instead). */
export function readsScoringPass(variant: CriterionVariant, run: ProscoreConfig | undefined): boolean {
  return GRADIENT_CRITERION_NAMES.includes(variant.criterion) && variantReading(variant, run)?.reading !== 'trajectory';
}

/** Whether a variant needs scoring data at all (a statistics pass or the trajectory). */
export function needsScoringData(variant: CriterionVariant): boolean {
  return GRADIENT_CRITERION_NAMES.includes(variant.criterion);
}
