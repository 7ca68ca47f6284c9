import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './data-error';
import type { ChannelNormalization } from './labeled-dataset';
import { checkNormalization } from './normalization-setting';

/** The sidecar file's name: in an image folder, or beside an npz or JSON file. */
export const SIDECAR_FILE = 'ippro-data.json';

/**
 * What a sidecar file states about the data next to it:
 * `{ "mean": [R, G, B], "std": [R, G, B], "classes": ["cat", "dog"] }`, every key optional
 * (mean and std together; one value each normalises every channel alike). `classes` fixes the
 * class names and order (label i is classes[i]): an image folder's sub-folders must be among them.
 */
export interface DataSidecar {
  readonly path: string;
  readonly normalization?: ChannelNormalization;
  readonly classes?: readonly string[];
}

const KEYS = ['mean', 'std', 'classes'];

/** The sidecar in `directory`, or undefined when there is none; a malformed one is an error naming it. */
export function readSidecar(directory: string): DataSidecar | undefined {
  const path = join(directory, SIDECAR_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataError('unavailable', `${path} cannot be read (${(error as NodeJS.ErrnoException).code})`, { cause: error });
  }
  const fail = (what: string): never => {
    throw new DataError('invalid-argument', `${path}: ${what}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('must be a JSON object with "mean", "std" and/or "classes"');
  const record = json as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !KEYS.includes(key));
  if (unknown !== undefined) fail(`unknown key "${unknown}"; known: ${KEYS.join(', ')}`);
  const { mean, std, classes } = record;
  let normalization: ChannelNormalization | undefined;
  if (mean !== undefined || std !== undefined) {
    if (!Array.isArray(mean) || !Array.isArray(std)) return fail('"mean" and "std" go together, each a list of numbers');
    try {
      normalization = checkNormalization({ mean: mean as number[], std: std as number[] });
    } catch (error) {
      fail((error as Error).message);
    }
  }
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.length === 0 || !classes.every((name) => typeof name === 'string' && name !== '')) {
      fail('"classes" must be a non-empty list of class names');
    }
    const names = classes as string[];
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) fail(`class "${twice}" is listed twice`);
  }
  return { path, ...(normalization === undefined ? {} : { normalization }), ...(classes === undefined ? {} : { classes: classes as string[] }) };
}
