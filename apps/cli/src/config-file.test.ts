import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { runCli, sharedDir } from './testing/run-cli';

const fixture = join(sharedDir(), 'fixtures', 'proscore-mlp');
const fixtureData = `json:${join(fixture, 'data.json')}`;
const scratch = mkdtempSync(join(tmpdir(), 'ippro-config-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** A run shaped like the demo's (geometric rounds, layer cap, cosine local SGD with replicas, shards), small enough for --local. */
const RUN: [string, string][] = [
  ['model', fixture],
  ['data', fixtureData],
  ['criterion', 'proscore'],
  ['target-params', '0.4'],
  ['rounds', '2'],
  ['schedule', 'geometric'],
  ['max-layer-ratio', '0.5'],
  ['finetune-steps', '3'],
  ['finetune-lr', '0.05'],
  ['finetune-schedule', 'cosine'],
  ['replicas', '2'],
  ['repetitions', '2'],
  ['batch-size', '8'],
  ['score-shards', '2'],
  ['seed', '3'],
  ['backend', 'cpu'],
];

const modelFiles = (dir: string): Buffer[] => ['model.json', 'weights.bin'].map((name) => readFileSync(join(dir, name)));

function writeConfig(name: string, lines: string[]): string {
  const file = join(scratch, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('a configuration file makes the same run as the same flags: byte-identical models, and --print-config gives it back', () => {
  const byFlags = join(scratch, 'by-flags');
  const flags = RUN.flatMap(([key, value]) => [`--${key}`, value]);
  const viaFlags = runCli(['prune', '--local', ...flags, '--out', byFlags]);
  assert.equal(viaFlags.status, 0, viaFlags.stderr);

  const file = writeConfig('run.yaml', ['# the same run', 'local: true', ...RUN.map(([key, value]) => `${key}: ${value}`)]);
  const byFile = join(scratch, 'by-file');
  const viaFile = runCli(['prune', '--config', file, '--out', byFile]);
  assert.equal(viaFile.status, 0, viaFile.stderr);
  assert.deepEqual(modelFiles(byFile), modelFiles(byFlags));

  const printed = join(scratch, 'printed.yaml');
  const print = runCli(['prune', '--local', ...flags, '--print-config', printed]);
  assert.equal(print.status, 0, print.stderr);
  const byPrinted = join(scratch, 'by-printed');
  const viaPrinted = runCli(['prune', '--config', printed, '--out', byPrinted]);
  assert.equal(viaPrinted.status, 0, viaPrinted.stderr);
  assert.deepEqual(modelFiles(byPrinted), modelFiles(byFlags));

  // The run records its effective configuration; the report shows it.
  const summary = JSON.parse(readFileSync(join(byFile, 'summary.json'), 'utf8')) as { config: Record<string, unknown> };
  assert.equal(summary.config['finetune-schedule'], 'cosine');
  assert.equal(summary.config['replicas'], 2);
  assert.equal(summary.config['out'], byFile);
  const record = JSON.parse(readFileSync(join(byFile, 'report.json'), 'utf8')) as { config: Record<string, unknown> };
  assert.deepEqual(record.config, summary.config);
});

test('a flag wins over the file, and the file over a variable', () => {
  const file = writeConfig('override.yaml', ['local: true', ...RUN.map(([key, value]) => `${key}: ${value}`), 'store: from-file']);
  const out = join(scratch, 'override');
  const result = runCli(['prune', '--config', file, '--rounds', '1', '--out', out, '--print-config'], { IPPRO_STORE: 'from-variable' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^rounds: 1$/m);
  assert.match(result.stdout, /^store: from-file$/m);
  assert.equal(existsSync(out), false, '--print-config runs nothing');
});

test('the old --max-accuracy-drop (a fraction) is --accuracy-budget in points, with a warning', () => {
  const flags = RUN.flatMap(([key, value]) => [`--${key}`, value]);
  const result = runCli(['prune', '--local', ...flags, '--max-accuracy-drop', '0.07', '--print-config']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /--max-accuracy-drop is deprecated: use --accuracy-budget 7 \(percentage points/);
  assert.match(result.stdout, /^accuracy-budget: 7$/m);
  assert.doesNotMatch(result.stdout, /max-accuracy-drop/);
  const both = runCli(['prune', '--local', ...flags, '--max-accuracy-drop', '0.07', '--accuracy-budget', '7', '--print-config']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--max-accuracy-drop is the old name of --accuracy-budget/);
});

test('demo.yaml holds only settings prune takes', () => {
  const result = runCli(['prune', '--config', resolve(__dirname, '../../../demo.yaml'), '--print-config']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^target-flops: 0\.5$/m);
  assert.match(result.stdout, /^finetune-schedule: cosine$/m);
});

const refusals: { name: string; lines: string[]; says: (file: string) => RegExp }[] = [
  { name: 'an unknown key, with its line', lines: ['model: m', '# fine-tuning', 'finetune-step: 3'], says: (file) => new RegExp(`unknown key 'finetune-step' in ${file}:3 \\(did you mean finetune-steps\\?\\)`) },
  { name: 'a bad value, with its line', lines: ['model: m', 'rounds: zero'], says: (file) => new RegExp(`rounds in ${file}:2 must be a positive integer, got 'zero'`) },
  { name: 'a key kept only as a flag', lines: ['max-accuracy-drop: 0.1'], says: (file) => new RegExp(`unknown key 'max-accuracy-drop' in ${file}:1 \\(use accuracy-budget\\)`) },
  { name: 'a file that is not YAML', lines: ['rounds: [1'], says: (file) => new RegExp(`${file}:\\d+: not valid YAML or JSON`) },
];

for (const { name, lines, says } of refusals) {
  test(`prune refuses ${name}: exit 2, nothing written`, () => {
    const file = writeConfig(`${name.replace(/\W+/g, '-')}.yaml`, lines);
    const out = join(scratch, `refused-${name.replace(/\W+/g, '-')}`);
    const result = runCli(['prune', '--config', file, '--out', out]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, says(file));
    assert.equal(existsSync(out), false);
  });
}

test('an unknown configuration file is bad input, on every command that takes one', () => {
  const missing = join(scratch, 'missing.yaml');
  for (const command of [['prune'], ['compare'], ['train'], ['worker'], ['dev'], ['schedule', 'create', 'nightly']]) {
    const result = runCli([...command, '--config', missing]);
    assert.equal(result.status, 2, `${command.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`--config ${missing}: cannot read it \\(ENOENT\\)`), command.join(' '));
  }
});
