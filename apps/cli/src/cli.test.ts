import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, sharedDir } from './testing/run-cli';

const fixture = join(sharedDir(), 'fixtures', 'proscore-mlp');
const fixtureData = `json:${join(fixture, 'data.json')}`;
const scratch = mkdtempSync(join(tmpdir(), 'ippro-cli-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

interface ExpectedGroup {
  id: string;
  proscore: Record<string, number>;
}

test('inspect --json reports the fixture\'s groups and size', () => {
  const result = runCli(['inspect', fixture, '--json']);
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { prunableGroups: number; cost: { params: number } };
  assert.equal(summary.prunableGroups, 9);
  assert.equal(summary.cost.params, 154);
});

test('score --json reproduces the oracle\'s PROscores', () => {
  const result = runCli(['score', '--model', fixture, '--data', fixtureData, '--batch-size', '8', '--lambda', '0.1', '--json', '--backend', 'cpu']);
  assert.equal(result.status, 0, result.stderr);
  const table = JSON.parse(result.stdout) as { rows: { id: string; score: number }[] };
  const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8')) as { groups: ExpectedGroup[] };
  for (const group of expected.groups) {
    const row = table.rows.find((candidate) => candidate.id === group.id);
    const want = group.proscore['0.1'] ?? Number.NaN;
    assert.ok(row && Math.abs(row.score - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${group.id}: ${row?.score} vs ${want}`);
  }
  assert.equal(table.rows[0]?.id, 'dense1:3', 'the dead unit is removed first');
});

test('prune --local writes a loadable smaller model and a per-round summary', () => {
  const out = join(scratch, 'pruned');
  const result = runCli([
    'prune', '--local', '--model', fixture, '--data', fixtureData, '--target-params', '0.3',
    '--rounds', '2', '--finetune-steps', '2', '--batch-size', '8', '--backend', 'cpu', '--out', out, '--json',
  ]);
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    baseline: { params: number };
    history: { params: number }[];
  };
  assert.deepEqual(JSON.parse(result.stdout), summary);
  assert.equal(summary.history.length, 2);
  assert.ok((summary.history[1]?.params ?? Infinity) <= summary.baseline.params * 0.7);
  const inspected = runCli(['inspect', out, '--json']);
  assert.equal(inspected.status, 0, inspected.stderr);
  assert.equal((JSON.parse(inspected.stdout) as { cost: { params: number } }).cost.params, summary.history[1]?.params);
});

/** A copy of the fixture model with one thing broken. */
function brokenModel(name: string, breakIt: (dir: string) => void): string {
  const dir = join(scratch, name);
  cpSync(fixture, dir, { recursive: true });
  breakIt(dir);
  return dir;
}

function editTopology(dir: string, edit: (text: string) => string): void {
  const file = join(dir, 'model.json');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

const badInputs: { name: string; args: () => string[]; says: RegExp }[] = [
  {
    name: 'a malformed model.json',
    args: () => ['--model', brokenModel('malformed', (dir) => editTopology(dir, (text) => text.slice(0, 200)))],
    says: /model\.json/,
  },
  {
    name: 'a missing weights file',
    args: () => ['--model', brokenModel('no-weights', (dir) => rmSync(join(dir, 'weights.bin')))],
    says: /weights\.bin.*does not exist/,
  },
  {
    name: 'weights of the wrong size',
    args: () => ['--model', brokenModel('short-weights', (dir) => truncateSync(join(dir, 'weights.bin'), 600))],
    says: /weights\.bin/,
  },
  {
    name: 'NaN weights',
    args: () => [
      '--model',
      brokenModel('nan-weights', (dir) => {
        const bytes = readFileSync(join(dir, 'weights.bin'));
        bytes.writeFloatLE(Number.NaN, 0);
        writeFileSync(join(dir, 'weights.bin'), bytes);
      }),
    ],
    says: /dense1\/kernel.*non-finite/,
  },
  {
    name: 'an unsupported layer',
    args: () => ['--model', brokenModel('fancy', (dir) => editTopology(dir, (text) => text.replace('"class_name": "ReLU"', '"class_name": "FancyLayer"')))],
    says: /FancyLayer/,
  },
  {
    name: 'a Dense layer of 2^30 units',
    args: () => ['--model', brokenModel('huge-dense', (dir) => editTopology(dir, (text) => text.replace(/"units": \d+/, `"units": ${2 ** 30}`)))],
    says: /the model has at least \S+ parameters, above the limit of 2\.00e\+9; the largest layer is .*\(--max-model-params raises the limit\)/,
  },
  { name: 'a model above --max-model-params', args: () => ['--max-model-params', '10'], says: /above the limit of 10; the largest layer is .*\(--max-model-params raises the limit\)/ },
  {
    name: 'a weights file linked from outside the model directory',
    args: () => [
      '--model',
      brokenModel('linked-weights', (dir) => {
        renameSync(join(dir, 'weights.bin'), join(scratch, 'linked-weights.bin'));
        symlinkSync(join(scratch, 'linked-weights.bin'), join(dir, 'weights.bin'));
      }),
    ],
    says: /weights path "weights\.bin" is a symbolic link to .*, outside the model directory/,
  },
  { name: 'a target outside (0, 1)', args: () => ['--target-params', '1.5'], says: /--target-params must be a fraction in \(0, 1\)/ },
  { name: 'conflicting targets', args: () => ['--target-flops', '0.5', '--target-params', '0.5'], says: /exactly one of --target-flops/ },
  { name: 'an unknown criterion', args: () => ['--criterion', 'magic'], says: /unknown criterion 'magic'/ },
  { name: 'an unknown dataset scheme', args: () => ['--data', 'imagenet:train'], says: /imagenet/ },
  { name: 'a sample range outside the dataset', args: () => ['--data', `${fixtureData}[40:50]`], says: /outside/ },
];

for (const badInput of badInputs) {
  test(`prune with ${badInput.name}: one clear line, exit code 2, nothing written`, () => {
    const out = join(scratch, `out-${badInput.name.replace(/\W+/g, '-')}`);
    const args = ['prune', '--local', '--model', fixture, '--data', fixtureData, '--target-params', '0.3', '--backend', 'cpu', '--out', out];
    const overrides = badInput.args();
    for (let index = 0; index < overrides.length; index += 2) {
      const flag = overrides[index] ?? '';
      const at = args.indexOf(flag);
      if (at >= 0) args[at + 1] = overrides[index + 1] ?? '';
      else args.push(flag, overrides[index + 1] ?? '');
    }
    const result = runCli(args);
    assert.equal(result.status, 2, `${result.stdout}\n${result.stderr}`);
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: '));
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^ippro: /);
    assert.match(lines[0] ?? '', badInput.says);
    assert.equal(existsSync(out), false, '--out must not be created');
  });
}

test('prune refuses an --out that already holds files', () => {
  const out = join(scratch, 'occupied');
  cpSync(fixture, out, { recursive: true });
  const before = readFileSync(join(out, 'weights.bin'));
  const result = runCli(['prune', '--local', '--model', fixture, '--data', fixtureData, '--target-params', '0.3', '--backend', 'cpu', '--out', out]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /is not empty/);
  assert.deepEqual(readFileSync(join(out, 'weights.bin')), before);
});

test('prune uses an existing empty --out without replacing it, and removes staging left by a killed run', () => {
  const out = join(scratch, 'empty-out');
  mkdirSync(out);
  const inode = statSync(out).ino;
  // A run killed while writing left its staging directory; its process is gone.
  const killed = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const stale = join(scratch, `.empty-out.staging-${killed.stdout}`);
  mkdirSync(stale);
  writeFileSync(join(stale, 'weights.bin'), 'half written');
  const result = runCli(['prune', '--local', '--model', fixture, '--data', fixtureData, '--target-params', '0.3', '--backend', 'cpu', '--out', out]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(statSync(out).ino, inode, 'the directory that existed, not a replacement');
  assert.deepEqual(readdirSync(out).sort(), ['model.json', 'report.html', 'report.json', 'summary.json', 'weights.bin']);
  assert.equal(existsSync(stale), false, 'the dead run\'s staging directory is gone');
  assert.deepEqual(readdirSync(scratch).filter((name) => name.includes('empty-out.staging')), []);
});
