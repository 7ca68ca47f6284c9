import { CRITERION_NAMES } from '@ippro/workflow-core';
import type { CriterionName } from '@ippro/workflow-core';

function items(text: string, what: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === '')) throw new Error(`${what}: '${text}' is not a comma-separated list`);
  if (new Set(parts).size !== parts.length) throw new Error(`${what}: '${text}' names an entry twice`);
  return parts;
}

/** `proscore,l2,taylor` -> the criteria, in that order; an error names an unknown one. */
export function parseCriteriaList(text: string): CriterionName[] {
  return items(text, 'criteria').map((name) => {
    const criterion = CRITERION_NAMES.find((candidate) => candidate === name);
    if (criterion === undefined) throw new Error(`criteria: unknown criterion '${name}'; expected some of ${CRITERION_NAMES.join(', ')}`);
    return criterion;
  });
}

/** `0.3,0.5,0.7` -> fractions, each in (0, 1). */
export function parseFractionList(text: string, what: string): number[] {
  return items(text, what).map((part) => {
    const value = Number(part);
    if (!Number.isFinite(value) || !(value > 0 && value < 1)) throw new Error(`${what}: '${part}' is not a fraction in (0, 1)`);
    return value;
  });
}
