import type { ScheduleTiming } from '@ippro/orchestration';
import { UsageError } from '../exit-codes';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h`, `30m`, `1h30m`, `7d` → milliseconds; UsageError naming the flag otherwise. */
export function parseEvery(text: string): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (trimmed === '' || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new UsageError(`--every must be a duration such as 24h, 30m, 1h30m or 7d, got '${text}'`);
  }
  const ms = parts.reduce((total, part) => total + Number(part[1]) * (UNIT_MS[part[2] as string] ?? 0), 0);
  if (ms < 1000) throw new UsageError(`--every must be at least 1s, got '${text}'`);
  return ms;
}

/** Cron: 5 fields (minute hour day-of-month month day-of-week), optionally with seconds/years, or @daily-style. */
export function checkCron(text: string): string {
  const expression = text.trim().replace(/\s+/g, ' ');
  const fields = expression.split(' ').length;
  if (!/^@\w+$/.test(expression) && (fields < 5 || fields > 7 || !/^[\d*,/?LW#A-Za-z -]+$/.test(expression))) {
    throw new UsageError(`--cron must be a cron expression such as "0 2 * * *" (minute hour day month weekday), got '${text}'`);
  }
  return expression;
}

/** Exactly one of --cron and --every. */
export function parseTiming(flags: { cron?: string; every?: string; timezone?: string }): ScheduleTiming {
  if ((flags.cron === undefined) === (flags.every === undefined)) throw new UsageError('give exactly one of --cron EXPRESSION and --every DURATION');
  if (flags.every !== undefined) {
    if (flags.timezone !== undefined) throw new UsageError('--timezone goes with --cron, not --every');
    return { kind: 'every', every: flags.every.trim(), milliseconds: parseEvery(flags.every) };
  }
  return { kind: 'cron', expression: checkCron(flags.cron as string), ...(flags.timezone === undefined ? {} : { timezone: flags.timezone }) };
}
