import * as fs from 'node:fs';
import * as path from 'node:path';

/** The workspace root: the nearest directory above `from` that holds nx.json. */
export function workspaceRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  while (!fs.existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No nx.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The independent PROscore oracle fixture (model.json, weights.bin, data.json, expected.json). */
export function proscoreFixtureDir(): string {
  return path.resolve(workspaceRoot(), '../shared/fixtures/proscore-mlp');
}
