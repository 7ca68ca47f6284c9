import type { Setting } from './setting';

/** A setting's help with its default and its variables, as every derived help text shows it. */
export function helpLine(spec: Setting<unknown>): string {
  if (spec.replacedBy !== undefined) return `${spec.help}; deprecated: use --${spec.replacedBy}`;
  const shown = spec.parser.kind === 'switch' ? spec.defaultHelp : (spec.default ?? spec.defaultHelp);
  const fallback = shown === undefined ? '' : ` (default ${shown})`;
  const variables = spec.env.length === 0 ? '' : ` ($${spec.env.join(', $')})`;
  return `${spec.help}${fallback}${variables}`;
}
