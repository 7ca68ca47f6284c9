import { readFileSync } from 'node:fs';
import { InvalidValue, UnusableValue } from './setting';
import type { SettingKind, ValueParser } from './setting';

/** A parser from a function; `parse` throws InvalidValue, UnusableValue or an Error naming what is wrong. */
export function parser<T>(kind: SettingKind, placeholder: string, parse: (text: string) => T): ValueParser<T> {
  return { kind, placeholder, parse };
}

export const TEXT: ValueParser<string> = parser('text', 'VALUE', (text) => text);

/** A number for which `check` holds, as `Number` reads it (`5e-4`, `0.5`); `expected` completes "must be". */
export function numberWhere(expected: string, check: (value: number) => boolean, placeholder = 'N'): ValueParser<number> {
  return parser('number', placeholder, (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || !check(value)) throw new InvalidValue(expected);
    return value;
  });
}

export const POSITIVE_INTEGER = numberWhere('a positive integer', (n) => Number.isInteger(n) && n > 0);
export const NON_NEGATIVE_INTEGER = numberWhere('a non-negative integer', (n) => Number.isInteger(n) && n >= 0);
export const INTEGER = numberWhere('an integer', Number.isInteger);
export const POSITIVE_NUMBER = numberWhere('a positive number', (n) => n > 0);
export const NON_NEGATIVE_NUMBER = numberWhere('a non-negative number', (n) => n >= 0);
/** (0, 1): a share to remove. */
export const OPEN_FRACTION = numberWhere('a fraction in (0, 1)', (n) => n > 0 && n < 1);

/** Decimal digits only (no sign, exponent or fraction), at least `min`. */
export function integerAtLeast(min: number): ValueParser<number> {
  return parser('number', 'N', (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) throw new InvalidValue(`an integer >= ${min}`);
    return value;
  });
}

/**
 * A secret read from a file (a mounted Kubernetes Secret, a file only its owner reads), so it
 * shows neither in `ps` nor in the environment: the value is the file's text without its
 * trailing newline. Declare the setting `secret: true`: the value is the secret, not the path.
 */
export const SECRET_FILE: ValueParser<string> = parser('text', 'FILE', (path) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UnusableValue(`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.trim() === '') throw new UnusableValue(`${path}: the file is empty`);
  if (secret.includes('\n')) throw new UnusableValue(`${path}: holds more than one line; a secret file holds the secret alone`);
  return secret;
});

/** A TCP port; 0 (a free one) only when `allowZero`. */
export function port(allowZero: boolean): ValueParser<number> {
  const low = allowZero ? 0 : 1;
  return parser('number', 'N', (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < low || value > 65535) throw new InvalidValue(`a port (${low}-65535)`);
    return value;
  });
}

export function oneOf<T extends string>(allowed: readonly T[], placeholder = 'NAME'): ValueParser<T> {
  return parser('text', placeholder, (text) => {
    const match = allowed.find((candidate) => candidate === text);
    if (match === undefined) throw new InvalidValue(`one of ${allowed.join(', ')}`);
    return match;
  });
}

/** Comma-separated on a command line and in a variable, a list (or the same text) in a file; empty items are dropped. */
export function listOf<T>(item: ValueParser<T>, placeholder = 'LIST'): ValueParser<T[]> {
  return parser('list', placeholder, (text) =>
    text
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => item.parse(part)),
  );
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

/** HOST:PORT (an IPv6 host in brackets); port 0 (a free one) only when `allowZero`. */
export function hostPort(allowZero: boolean, expected = 'HOST:PORT'): ValueParser<string> {
  return parser('text', 'HOST:PORT', (text) => {
    const port = Number(HOST_PORT.exec(text)?.[2] ?? NaN);
    if (!(port >= (allowZero ? 0 : 1) && port <= 65535)) throw new InvalidValue(expected);
    return text;
  });
}
