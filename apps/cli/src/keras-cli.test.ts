import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './testing/run-cli';

function badInput(args: readonly string[], expected: RegExp): void {
  const result = runCli(args);
  assert.equal(result.status, 2, `ippro ${args.join(' ')}: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0] ?? '', expected);
  assert.equal(result.stdout, '');
}

test('import and export refuse bad paths and a missing environment in one line, exit 2, before starting Python', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ippro-keras-cli-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const model = join(work, 'model.keras');
  writeFileSync(model, 'not read: the environment is missing');
  const missing = join(work, 'no-environment');
  badInput(['import', model, '--out', join(work, 'out'), '--keras-env', missing], new RegExp(`^ippro: the Keras converter's Python environment is missing \\(no Python environment at ${missing}\\): run npm run setup:keras$`));
  badInput(['import', join(work, 'absent.keras'), '--out', join(work, 'out')], /^ippro: .*absent\.keras does not exist$/);
  badInput(['import', model], /^ippro: --out is required/);
  badInput(['export', work, '--format', 'h5', '--out', join(work, 'model.keras')], /^ippro: --out .*model\.keras: an h5 file must end in \.h5 or \.hdf5$/);
  badInput(['export', work, '--out', model], /^ippro: --out .*model\.keras exists; choose a new file$/);
  badInput(['export', work, '--format', 'onnx', '--out', join(work, 'm.onnx')], /^ippro: --format must be/);
});
