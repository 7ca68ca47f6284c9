import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/run-cli';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-train-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const DATA = 'synthetic:cifar?n=64&seed=1&classes=10';
const HELD_OUT = 'synthetic:cifar?n=32&seed=2&classes=10';
/**
 * The small CNN trains on wasm (deterministic: XNNPACK, one thread). The cpu backend's naive
 * Conv2DBackpropFilter needs tens of seconds for one batch of 16 images of this model (27 s
 * measured for its 3-conv predecessor), wasm about 0.1 s.
 */
const SMALL_RUN = ['train', '--arch', 'small-cnn', '--data', DATA, '--eval-data', HELD_OUT, '--epochs', '2', '--batch', '16', '--lr', '0.05', '--warmup-epochs', '0.5', '--nesterov', '--label-smoothing', '0.1', '--seed', '4', '--backend', 'wasm'];

interface Summary {
  complete: boolean;
  steps: number;
  final: { evalAccuracy: number; evalLoss: number };
  history: unknown[];
}

test('train writes checkpoint, log, summary and model; a stopped run resumed ends byte-identical', () => {
  const straight = join(scratch, 'straight');
  const whole = runCli([...SMALL_RUN, '--out', straight, '--json']);
  assert.equal(whole.status, 0, whole.stderr);
  assert.match(whole.stderr, /epoch 2\/2 \[#+\] 4\/4 loss [\d.]+ acc [\d.]+% \d+ img\/s/);
  assert.match(whole.stderr, /epoch 1: train loss [\d.]+ acc [\d.]+% \| eval loss [\d.]+ acc [\d.]+%/);
  const summary = JSON.parse(readFileSync(join(straight, 'summary.json'), 'utf8')) as Summary;
  assert.deepEqual(JSON.parse(whole.stdout), summary);
  assert.equal(summary.complete, true);
  assert.equal(summary.steps, 8);
  assert.deepEqual(readdirSync(straight).sort(), ['checkpoint', 'model', 'summary.json', 'train-log.jsonl']);
  const log = readFileSync(join(straight, 'train-log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string });
  assert.deepEqual(log.map((line) => line.event), ['start', 'epoch', 'epoch']);

  const paused = join(scratch, 'paused');
  const first = runCli([...SMALL_RUN, '--out', paused, '--stop-after-epoch', '1']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /stopped after epoch 1 of 2; continue with --resume/);
  assert.equal(existsSync(join(paused, 'model')), false, 'no final model before the run is complete');
  // The same command line plus --resume (explicit flags must agree with the checkpoint).
  const resumed = runCli([...SMALL_RUN, '--out', paused, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /model: .*paused\/model/);
  assert.deepEqual(readFileSync(join(paused, 'model', 'weights.bin')), readFileSync(join(straight, 'model', 'weights.bin')));
  assert.deepEqual(readFileSync(join(paused, 'checkpoint', 'optimizer.bin')), readFileSync(join(straight, 'checkpoint', 'optimizer.bin')));
  const pausedLog = readFileSync(join(paused, 'train-log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string });
  assert.deepEqual(pausedLog.map((line) => line.event), ['start', 'epoch', 'resume', 'epoch']);

  // eval reproduces the accuracy measured after the last epoch.
  const evaluated = runCli(['eval', '--model', join(straight, 'model'), '--data', HELD_OUT, '--batch-size', '10', '--backend', 'wasm', '--json']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout) as { top1: number; loss: number; count: number };
  assert.equal(report.count, 32);
  assert.equal(report.top1, summary.final.evalAccuracy);
  assert.ok(Math.abs(report.loss - summary.final.evalLoss) < 1e-6);
  const text = runCli(['eval', '--model', join(straight, 'model'), '--data', HELD_OUT, '--backend', 'wasm']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^synthetic:cifar\?n=32&seed=2&classes=10: top-1 accuracy \d+\.\d\d% \(\d+\/32\), loss \d+\.\d{4}\n$/);

  const conflicting = runCli([...SMALL_RUN, '--lr', '0.2', '--out', paused, '--resume']);
  assert.equal(conflicting.status, 2);
  assert.match(conflicting.stderr, /--lr 0.2 differs from the run in .*paused \(0.05\)/);
});

test('train on the cpu backend: an MLP with a step schedule', () => {
  const out = join(scratch, 'mlp');
  const result = runCli(['train', '--arch', 'mlp', '--data', DATA, '--epochs', '2', '--batch', '32', '--schedule', 'step', '--milestones', '1', '--backend', 'cpu', '--out', out, '--json']);
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { history: { learningRate: number }[]; data: { eval: string } };
  assert.deepEqual(summary.history.map((h) => h.learningRate), [0.1, 0.1 * 0.1]);
  assert.equal(summary.data.eval, DATA, 'without --eval-data, non-CIFAR data evaluates on itself');
});

const occupied = join(scratch, 'occupied');
mkdirSync(occupied, { recursive: true });
writeFileSync(join(occupied, 'notes.txt'), 'keep me');

/** Flag/value pairs replacing or adding to the base command line; a null value removes the flag. */
const badTrainInputs: { name: string; args: (string | null)[]; says: RegExp }[] = [
  { name: 'an unknown architecture', args: ['--arch', 'resnet18'], says: /--arch: unknown architecture 'resnet18'; known architectures: resnet20, .*small-cnn, mlp/ },
  { name: 'a bad learning rate', args: ['--lr', '-1'], says: /--lr must be a positive number, got '-1'/ },
  { name: 'zero epochs', args: ['--epochs', '0'], says: /--epochs must be a positive integer, got '0'/ },
  { name: 'a batch size that is not a number', args: ['--batch', 'lots'], says: /--batch must be a positive integer, got 'lots'/ },
  { name: 'an unknown schedule', args: ['--schedule', 'linear'], says: /--schedule must be one of cosine, step, constant/ },
  { name: 'milestones past the run', args: ['--schedule', 'step', '--milestones', '5'], says: /milestone 5 must be an epoch in 1..2/ },
  { name: 'missing CIFAR-10 files', args: ['--data', 'cifar10', '--data-dir', '/nonexistent/cifar'], says: /--data: .*nonexistent\/cifar/ },
  { name: 'an unknown dataset', args: ['--data', 'imagenet:train'], says: /--data: dataset spec 'imagenet:train': unknown scheme/ },
  { name: 'a width multiplier on a ResNet', args: ['--arch', 'resnet20', '--width-multiplier', '0.5'], says: /'resnet20' has no width multiplier/ },
  { name: 'eval data with other classes', args: ['--eval-data', 'synthetic:cifar?n=8&classes=5'], says: /does not fit --eval-data .*has 5 classes/ },
  { name: 'an empty --arch', args: ['--arch', ''], says: /--arch: unknown architecture ''/ },
  { name: 'no --arch', args: ['--arch', null], says: /--arch is required \(unless --resume\)/ },
  { name: 'no --epochs', args: ['--epochs', null], says: /--epochs is required \(unless --resume\)/ },
];

for (const bad of badTrainInputs) {
  test(`train with ${bad.name}: one line, exit code 2, nothing written`, () => {
    const out = join(scratch, `bad-${bad.name.replace(/\W+/g, '-')}`);
    const args = ['train', '--arch', 'mlp', '--data', DATA, '--epochs', '2', '--backend', 'cpu', '--out', out];
    for (let index = 0; index < bad.args.length; index += 2) {
      const flag = bad.args[index] ?? '';
      const value = bad.args[index + 1] ?? null;
      const at = args.indexOf(flag);
      if (value === null) args.splice(at, 2);
      else if (at >= 0) args[at + 1] = value;
      else args.push(flag, value);
    }
    const result = runCli(args);
    assert.equal(result.status, 2, `${result.stdout}\n${result.stderr}`);
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: '));
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^ippro: /);
    assert.match(lines[0] ?? '', bad.says);
    assert.equal(existsSync(out), false, '--out must not be created');
  });
}

test('train refuses a non-empty --out, and --resume where there is no checkpoint', () => {
  const busy = runCli(['train', '--arch', 'mlp', '--data', DATA, '--epochs', '1', '--backend', 'cpu', '--out', occupied]);
  assert.equal(busy.status, 2);
  assert.match(busy.stderr, /is not empty/);
  const nothing = runCli(['train', '--data', DATA, '--backend', 'cpu', '--out', occupied, '--resume']);
  assert.equal(nothing.status, 2);
  assert.match(nothing.stderr, /--resume: .*occupied holds no checkpoint/);
  assert.deepEqual(readdirSync(occupied), ['notes.txt']);
});

test('eval refuses a missing model and a model that does not fit the data', () => {
  const missing = runCli(['eval', '--model', join(scratch, 'nowhere'), '--data', DATA, '--backend', 'cpu']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^ippro: model .*nowhere/m);
  const model = join(scratch, 'mlp', 'model');
  assert.ok(existsSync(model), 'the MLP test ran first');
  const other = runCli(['eval', '--model', model, '--data', 'synthetic:cifar?n=8&classes=3', '--backend', 'cpu']);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /does not fit --data synthetic:cifar\?n=8&seed=0&classes=3: the model outputs \[10\] values/);
  const badBatch = runCli(['eval', '--model', model, '--batch-size', '0', '--backend', 'cpu']);
  assert.equal(badBatch.status, 2);
  assert.match(badBatch.stderr, /--batch-size must be a positive integer/);
});
