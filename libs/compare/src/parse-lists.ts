import { parseCriterionVariant } from './criterion-variants';

function items(text: string, what: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === '')) throw new Error(`${what}: '${text}' is not a comma-separated list`);
  if (new Set(parts).size !== parts.length) throw new Error(`${what}: '${text}' names an entry twice`);
  return parts;
}

/** `proscore,l2,proscore:per-batch` -> the criteria and variants (parseCriterionVariant), in that order; an error names a bad one. */
export function parseCriteriaList(text: string): string[] {
  return items(text, 'criteria').map((label) => {
    try {
      return parseCriterionVariant(label).label;
    } catch (error) {
      throw new Error(`criteria: ${(error as Error).message}`);
    }
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
