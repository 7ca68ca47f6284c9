import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildSmallCnn } from '@ippro/models';
import { initRuntime } from '@ippro/runtime';
import { runCli, sharedDir, workspaceRoot } from './testing/run-cli';

/** The recovery settings (fine-tuning by epochs, distillation, recalibration), the PROscore readings and the multi-seed protocol, through the real bin. */
const fixture = join(sharedDir(), 'fixtures', 'proscore-mlp');
const fixtureData = `json:${join(fixture, 'data.json')}`;
const scratch = mkdtempSync(join(tmpdir(), 'ippro-recovery-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
/** A freshly built (untrained) small CNN: its batch norms still hold their initial statistics. */
const freshModel = join(scratch, 'fresh-cnn');

const RUN = ['--model', fixture, '--data', fixtureData, '--target-params', '0.3', '--batch-size', '8', '--backend', 'cpu'];

function modelBytes(dir: string): Buffer[] {
  return ['model.json', 'weights.bin'].map((name) => readFileSync(join(dir, name)));
}

function summaryOf(dir: string): { config: Record<string, unknown>; history: { fineTuneLoss?: number }[]; warnings?: string[] } {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ReturnType<typeof summaryOf>;
}

before(async () => {
  await initRuntime({ backend: 'cpu' });
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed: 1 });
  await saveLayersModelToDir(model, freshModel);
  model.dispose();
});

test('prune fine-tunes by default, for the default epochs with a cosine rate, and records the budget it used', () => {
  const out = join(scratch, 'default-tuning');
  const result = runCli(['prune', '--local', ...RUN, '--rounds', '2', '--out', out]);
  assert.equal(result.status, 0, result.stderr);
  const summary = summaryOf(out);
  assert.equal(summary.config['finetune-epochs'], 3);
  assert.equal(summary.config['finetune-schedule'], 'cosine');
  assert.equal(summary.config['finetune-steps'], undefined);
  assert.deepEqual([summary.config['finetune-optimizer'], summary.config['finetune-lr'], summary.config['finetune-weight-decay']], ['sgd', 0.01, 5e-4]);
  assert.ok(summary.history.every((round) => typeof round.fineTuneLoss === 'number'), 'every round fine-tuned');
  // 32 samples in batches of 8: 4 batches an epoch, 3 epochs over 2 rounds = 6 steps a round.
  const record = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { facts: [string, string][] };
  assert.match(new Map(record.facts).get('fine-tuning') ?? '', /^6 SGD steps per replica and repetition \(1 x 1 per round\) on .*, cosine rate$/);
  assert.equal(summary.warnings, undefined, 'the fixture is a trained model');
  assert.equal(summary.config['bn-recalibration-batches'], 20);
  assert.match(new Map(record.facts).get('batch-norm recalibration') ?? '', /^after surgery: 20 batches of 8 from /);
});

test('a model without batch norm skips the default recalibration in prune and compare, and warns when the run asks for it', () => {
  const vit = join(workspaceRoot(), 'libs', 'importance', 'test-data', 'tiny-transformer');
  const common = ['--local', '--model', vit, '--data', `json:${join(vit, 'data.json')}`, '--target-flops', '0.2', '--batch-size', '4', '--backend', 'cpu'];
  const run = ['prune', ...common, '--finetune-steps', '1'];
  const skipped = 'none (the model has no BatchNormalization layer)';
  const [byDefault, asked] = ['vit-default', 'vit-asked'].map((name) => join(scratch, name)) as [string, string];
  const quiet = runCli([...run, '--out', byDefault]);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /warning/);
  assert.equal(summaryOf(byDefault).warnings, undefined);
  const facts = (dir: string) => new Map((JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { facts: [string, string][] }).facts);
  assert.equal(facts(byDefault).get('batch-norm recalibration'), skipped);
  const warned = runCli([...run, '--bn-recalibration-batches', '5', '--out', asked]);
  assert.equal(warned.status, 0, warned.stderr);
  const why = /^ippro: warning: --bn-recalibration-batches: model .*tiny-transformer has no BatchNormalization layer, so nothing is recalibrated$/m;
  assert.match(warned.stderr, why);
  assert.match(`ippro: warning: ${summaryOf(asked).warnings?.[0] ?? ''}`, why);
  assert.equal(facts(asked).get('batch-norm recalibration'), skipped);
  assert.deepEqual(modelBytes(asked), modelBytes(byDefault));
  const compared = join(scratch, 'vit-compare');
  const comparison = runCli(['compare', ...common, '--criteria', 'l2', '--finetune-steps', '0', '--out', compared]);
  assert.equal(comparison.status, 0, comparison.stderr);
  const table = readFileSync(join(compared, 'compare.md'), 'utf8');
  assert.ok(table.includes(`- batch-norm recalibration: \`${skipped}\``), table);
  assert.doesNotMatch(table, /recalibrated/, 'no recalibrated column');
});

test('distillation at weight 0 is no distillation, byte for byte; above 0 it changes the model; recalibration too', () => {
  const tuned = ['--finetune-steps', '3', '--rounds', '1'];
  const outs = ['plain', 'weight-0', 'weight-half', 'recalibrated'].map((name) => join(scratch, `distil-${name}`));
  const off = ['--bn-recalibration-batches', '0'];
  const runs = [off, [...off, '--distill-weight', '0'], [...off, '--distill-weight', '0.5', '--temperature', '2'], ['--bn-recalibration-batches', '3']];
  runs.forEach((flags, index) => {
    const result = runCli(['prune', '--local', ...RUN, ...tuned, ...flags, '--out', outs[index] as string]);
    assert.equal(result.status, 0, result.stderr);
  });
  const [plain, zero, half, recalibrated] = outs.map(modelBytes);
  assert.deepEqual(zero, plain);
  assert.notDeepEqual(half, plain);
  assert.notDeepEqual(recalibrated, plain);
  const facts = new Map((JSON.parse(readFileSync(join(outs[3] as string, 'report.json'), 'utf8')) as { facts: [string, string][] }).facts);
  assert.match(facts.get('batch-norm recalibration') ?? '', /^after surgery: 3 batches of 8 from /);
});

test('prune fine-tunes with AdamW at its own defaults, records them, and tunes otherwise than SGD at the same rate and decay', () => {
  const [adamw, sgd] = ['adamw', 'sgd-at-adamw-rates'].map((name) => join(scratch, name)) as [string, string];
  const tuned = ['--finetune-steps', '2'];
  const result = runCli(['prune', '--local', ...RUN, ...tuned, '--finetune-optimizer', 'adamw', '--out', adamw]);
  assert.equal(result.status, 0, result.stderr);
  const { config } = summaryOf(adamw);
  assert.deepEqual([config['finetune-optimizer'], config['finetune-lr'], config['finetune-weight-decay']], ['adamw', 1e-4, 0.05]);
  const record = JSON.parse(readFileSync(join(adamw, 'report.json'), 'utf8')) as { facts: [string, string][] };
  assert.match(new Map(record.facts).get('fine-tuning') ?? '', /^2 AdamW steps per replica and repetition/);
  const withSgd = runCli(['prune', '--local', ...RUN, ...tuned, '--finetune-lr', '1e-4', '--finetune-weight-decay', '0.05', '--out', sgd]);
  assert.equal(withSgd.status, 0, withSgd.stderr);
  assert.notDeepEqual(modelBytes(adamw), modelBytes(sgd));
});

test('a model that looks untrained: one warning line on stderr, and a note in summary.json and the report', () => {
  const out = join(scratch, 'untrained');
  const result = runCli(['prune', '--local', '--model', freshModel, '--data', 'synthetic:cifar?n=16&seed=1&classes=10', '--target-channels', '0.3', '--finetune-steps', '1', '--batch-size', '8', '--backend', 'cpu', '--out', out]);
  assert.equal(result.status, 0, result.stderr);
  const warnings = result.stderr.split('\n').filter((line) => line.startsWith('ippro: warning: '));
  assert.equal(warnings.length, 1, result.stderr);
  assert.match(warnings[0] ?? '', /fresh-cnn: every one of its 2 BatchNormalization layers still has its initial moving statistics/);
  assert.match(summaryOf(out).warnings?.[0] ?? '', /looks untrained/);
  const record = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { notes: string[] };
  assert.match(record.notes[0] ?? '', /looks untrained/);
  for (const name of ['small-cifar10', 'resnet20-cifar10']) {
    const score = runCli(['score', '--model', join(__dirname, '..', '..', '..', 'models', name), '--criterion', 'l2', '--backend', 'cpu', '--json']);
    assert.equal(score.status, 0, score.stderr);
    assert.doesNotMatch(score.stderr, /warning/, `no false alarm on the trained ${name}`);
  }
});

test('score reads PROscore per batch, descending, with weight decay, or along a trajectory, and every criterion of the registry', () => {
  const score = (args: string[]): { rows: { id: string; score: number | string }[]; method: string } => {
    const result = runCli(['score', '--model', fixture, '--data', fixtureData, '--batch-size', '8', '--json', '--backend', 'cpu', ...args]);
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as ReturnType<typeof score>;
  };
  const pooled = score([]);
  const readings = [['--proscore-reading', 'per-batch'], ['--proscore-order', 'descending'], ['--proscore-weight-decay', '5e-4'], ['--proscore-reading', 'trajectory', '--trajectory-steps', '2', '--trajectory-lr', '0.1']];
  for (const flags of readings) assert.notDeepEqual(score(flags).rows, pooled.rows, flags.join(' '));
  for (const criterion of ['taylor-batch', 'fisher', 'group-norm', 'lamp', 'fpgm']) assert.equal(score(['--criterion', criterion]).rows.length, pooled.rows.length, criterion);
  const help = runCli(['score', '--help']);
  assert.match(help.stdout.replace(/\s+/g, ' '), /proscore \| l1 \| l2 \| taylor \| taylor-batch \| fisher \| bn \| group-norm \| lamp \| fpgm \| random/);
});

test('compare over seeds with scoring draws, a held-out set and a test set, recalibration, distillation and PROscore variants', () => {
  const out = join(scratch, 'protocol');
  const result = runCli([
    'compare', '--local', '--model', fixture, '--data', fixtureData, '--scoring-samples', '24', '--eval-data', `${fixtureData}[0:16]`, '--test-data', `${fixtureData}[16:32]`,
    '--criteria', 'proscore,proscore:per-batch+descending,proscore:wd,proscore:trajectory,l2', '--target-params', '0.3', '--seeds', '2',
    '--finetune-epochs', '0.5', '--distill-weight', '0.5', '--bn-recalibration-batches', '2', '--batch-size', '8', '--backend', 'cpu', '--out', out, '--json',
  ]);
  assert.equal(result.status, 0, result.stderr);
  const document = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as {
    summary: { criterion: string; runs: number; top1Tuned?: { std?: number }; test?: { top1Tuned?: { mean: number } } }[];
    result: { scoring: { passes: number }; fineTuneSteps: number; rows: { run?: number }[] };
  };
  assert.equal(document.result.scoring.passes, 2, 'one scoring pass per drawn subset');
  assert.equal(document.result.fineTuneSteps, 2, 'half an epoch of 4 batches');
  assert.deepEqual(document.summary.map((row) => `${row.criterion}x${row.runs}`), ['proscorex2', 'proscore:per-batch+descendingx2', 'proscore:wdx2', 'proscore:trajectoryx2', 'l2x2']);
  assert.ok(document.summary.every((row) => row.top1Tuned?.std !== undefined && row.test?.top1Tuned !== undefined));
  const header = readFileSync(join(out, 'compare.md'), 'utf8').split('\n').find((line) => line.startsWith('| criterion'));
  assert.equal(header, '| criterion | params removed | runs | params kept | FLOPs kept | top-1 pruned | top-1 recalibrated | top-1 after 2 steps | test top-1 pruned | test top-1 recalibrated | test top-1 after 2 steps |');
});

/** Exit code 2, one `ippro: ...` line (backend lines aside), nothing written. */
function assertBadInput(args: string[], says: RegExp): void {
  const out = join(scratch, 'never');
  const result = runCli([...args, '--out', out]);
  assert.equal(result.status, 2, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: '));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] ?? '', says);
  assert.equal(existsSync(out), false);
}

test('bad recovery and reading settings: exit 2 with one clear line, before any work', () => {
  const prune = ['prune', '--local', ...RUN];
  assertBadInput([...prune, '--finetune-steps', '2', '--finetune-epochs', '1'], /--finetune-steps and --finetune-epochs both set the fine-tuning budget; give one/);
  assertBadInput([...prune, '--finetune-steps', '0', '--distill-weight', '0.5'], /--distill-weight distils while fine-tuning, but this run does not fine-tune/);
  assertBadInput([...prune, '--distill-weight', '1.5'], /--distill-weight must be a weight in \[0, 1\], got '1\.5'/);
  assertBadInput([...prune, '--finetune-optimizer', 'bogus'], /--finetune-optimizer must be one of sgd, adamw, got 'bogus'/);
  assertBadInput([...prune, '--finetune-weight-decay', '-1'], /--finetune-weight-decay must be a non-negative number, got '-1'/);
  assertBadInput([...prune, '--proscore-reading', 'trajectory', '--score-shards', '2'], /proscore\.reading 'trajectory' .* cannot be sharded: shards\.batchShards must be 1, got 2/);
  assertBadInput([...prune, '--trajectory-steps', '2'], /--trajectory-steps sets the trajectory reading, which this run does not read/);
  assertBadInput([...prune, '--proscore-reading', 'trajectory', '--trajectory-steps', '9'], /--trajectory-steps 9: the trajectory takes one scoring batch per step, and the scoring data has 4 batches of 8/);
  assertBadInput([...prune, '--proscore-weight-decay', '5e-4', '--include-bias'], /--proscore-weight-decay: the training objective decays kernels only, but --include-bias puts biases in F/);
  assertBadInput([...prune, '--criterion', 'l2', '--proscore-order', 'descending'], /read PROscore; --criterion is l2/);
  assertBadInput([...prune, '--bn-recalibration-batches', '0', '--bn-recalibration-batch-size', '4'], /--bn-recalibration-batch-size sets batch-norm recalibration, which is off/);
  assertBadInput([...prune, '--scoring-samples', '40'], /--scoring-samples 40 is more than the 32 samples of --data/);
  assertBadInput([...prune, '--criterion', 'l2', '--scoring-samples', '16'], /--scoring-samples draws the scoring data, which no criterion of this run reads/);
  const compare = ['compare', '--local', '--model', fixture, '--data', fixtureData, '--backend', 'cpu'];
  assertBadInput([...compare, '--criteria', 'proscore:sideways'], /criterion 'proscore:sideways': unknown modifier 'sideways'/);
  assertBadInput([...compare, '--criteria', 'l2:descending'], /only proscore takes modifiers/);
  assertBadInput([...compare, '--criteria', 'proscore:trajectory', '--score-shards', '2'], /cannot be sharded: shards\.batchShards must be 1, got 2/);
});
