import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../testing/run-cli';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-train-adamw-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const BASE = ['train', '--arch', 'mlp', '--data', 'synthetic:cifar?n=48&seed=1&classes=4', '--eval-data', 'synthetic:cifar?n=16&seed=2&classes=4', '--epochs', '2', '--batch', '12', '--seed', '3', '--backend', 'cpu'];
// The optimizer from a configuration file, as any flag can be.
const config = join(scratch, 'adamw.yaml');
writeFileSync(config, 'optimizer: adamw\nbeta2: 0.99\nwarmup-epochs: 0.5\n');
const RUN = [...BASE, '--config', config, '--processes', '2'];

interface Optimizer {
  kind: string;
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay: number;
}

function logLines(out: string): { event: string; optimizer?: Optimizer }[] {
  return readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; optimizer?: Optimizer });
}

const bytes = (out: string, file: string) => readFileSync(join(out, file));

test('train --optimizer adamw in 2 processes: a stopped run resumed ends byte-identical; summary and log record the optimizer', () => {
  const straight = join(scratch, 'straight');
  const whole = runCli([...RUN, '--out', straight]);
  assert.equal(whole.status, 0, whole.stderr);
  const summary = JSON.parse(readFileSync(join(straight, 'summary.json'), 'utf8')) as { optimizer: Optimizer; config: { sgd: Record<string, number>; optimizer?: unknown } };
  // The rate and weight decay default to AdamW's (1e-3, 0.05), not SGD's.
  const expected = { kind: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.05 };
  assert.deepEqual(summary.optimizer, expected);
  assert.deepEqual(summary.config.optimizer, { kind: 'adamw', beta1: 0.9, beta2: 0.99, epsilon: 1e-8 });
  assert.equal(summary.config.sgd['momentum'], undefined, 'no SGD momentum is recorded for AdamW');
  assert.ok(existsSync(join(straight, 'checkpoint', 'optimizer-velocity.bin')));

  const paused = join(scratch, 'paused');
  assert.equal(runCli([...RUN, '--out', paused, '--stop-after-epoch', '1']).status, 0);
  const other = runCli(['train', '--resume', '--out', paused, '--optimizer', 'sgd', '--backend', 'cpu']);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /--resume: --optimizer sgd differs from the run in .*paused \(adamw\)/);
  const sgdFlag = runCli(['train', '--resume', '--out', paused, '--momentum', '0.8', '--backend', 'cpu']);
  assert.equal(sgdFlag.status, 2);
  assert.match(sgdFlag.stderr, /--resume: --momentum is a setting of --optimizer sgd, not adamw \(the optimizer of the run in .*paused\)/);
  // The same command line plus --resume (its settings agree with the checkpoint).
  const resumed = runCli([...RUN, '--out', paused, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  for (const file of ['model/weights.bin', 'checkpoint/optimizer.bin', 'checkpoint/optimizer-velocity.bin']) {
    assert.deepEqual(bytes(paused, file), bytes(straight, file), file);
  }
  assert.deepEqual(
    logLines(paused).filter((line) => line.event !== 'epoch').map((line) => [line.event, line.optimizer]),
    [['start', expected], ['resume', expected]],
  );
});

test('an SGD run records its optimizer, and resuming it as AdamW is refused naming both', () => {
  const out = join(scratch, 'sgd');
  const first = runCli([...BASE, '--epochs', '1', '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { optimizer: Optimizer; config: { optimizer?: unknown } };
  assert.deepEqual(summary.optimizer, { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: false, weightDecay: 5e-4 });
  assert.equal(summary.config.optimizer, undefined, 'an SGD config is as before AdamW existed');
  assert.equal(existsSync(join(out, 'checkpoint', 'optimizer-velocity.bin')), false);
  const resumed = runCli(['train', '--resume', '--out', out, '--optimizer', 'adamw', '--backend', 'cpu']);
  assert.equal(resumed.status, 2);
  assert.match(resumed.stderr, /--resume: --optimizer adamw differs from the run in .*sgd \(sgd\)/);
});

const refusals: { name: string; args: string[]; says: RegExp }[] = [
  { name: 'an unknown optimizer', args: ['--optimizer', 'adam'], says: /--optimizer must be one of sgd, adamw, got 'adam'/ },
  { name: 'beta1 of 1', args: ['--optimizer', 'adamw', '--beta1', '1'], says: /--beta1 must be a number in \[0, 1\), got '1'/ },
  { name: 'a negative beta2', args: ['--optimizer', 'adamw', '--beta2', '-0.5'], says: /--beta2 must be a number in \[0, 1\), got '-0.5'/ },
  { name: 'a zero epsilon', args: ['--optimizer', 'adamw', '--epsilon', '0'], says: /--epsilon must be a positive number, got '0'/ },
  { name: 'momentum with adamw', args: ['--optimizer', 'adamw', '--momentum', '0.8'], says: /--momentum is a setting of --optimizer sgd, not adamw/ },
  { name: 'nesterov with adamw', args: ['--optimizer', 'adamw', '--nesterov'], says: /--nesterov is a setting of --optimizer sgd, not adamw/ },
  { name: 'beta2 with sgd', args: ['--beta2', '0.99'], says: /--beta2 is a setting of --optimizer adamw, not sgd/ },
];

for (const bad of refusals) {
  test(`train with ${bad.name}: one line, exit code 2, nothing written`, () => {
    const out = join(scratch, `bad-${bad.name.replace(/\W+/g, '-')}`);
    const result = runCli([...BASE, ...bad.args, '--out', out]);
    assert.equal(result.status, 2, result.stderr);
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: '));
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^ippro: /);
    assert.match(lines[0] ?? '', bad.says);
    assert.equal(existsSync(out), false, '--out must not be created');
  });
}
