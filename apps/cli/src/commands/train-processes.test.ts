import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../testing/run-cli';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-train-processes-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const RUN = ['train', '--arch', 'mlp', '--data', 'synthetic:cifar?n=48&seed=1&classes=4', '--eval-data', 'synthetic:cifar?n=16&seed=2&classes=4', '--epochs', '2', '--batch', '12', '--seed', '3', '--backend', 'cpu'];

function logEvents(out: string): { event: string; processes?: number }[] {
  return readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; processes?: number });
}

test('train --processes 2: a stopped run resumed (in as many processes) ends byte-identical', () => {
  const straight = join(scratch, 'straight');
  const whole = runCli([...RUN, '--processes', '2', '--out', straight]);
  assert.equal(whole.status, 0, whole.stderr);
  assert.match(whole.stderr, /training in 2 processes, each taking 1\/2 of every batch/);
  assert.equal(logEvents(straight)[0]?.processes, 2);
  const state = JSON.parse(readFileSync(join(straight, 'checkpoint', 'state.json'), 'utf8')) as { processes?: number };
  assert.equal(state.processes, 2);

  const paused = join(scratch, 'paused');
  assert.equal(runCli([...RUN, '--processes', '2', '--out', paused, '--stop-after-epoch', '1']).status, 0);
  const resumed = runCli(['train', '--resume', '--out', paused, '--backend', 'cpu']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(logEvents(paused).map((line) => `${line.event}:${line.processes ?? 1}`), ['start:2', 'epoch:1', 'resume:2', 'epoch:1']);
  assert.deepEqual(readFileSync(join(paused, 'model', 'weights.bin')), readFileSync(join(straight, 'model', 'weights.bin')));
  assert.deepEqual(readFileSync(join(paused, 'checkpoint', 'optimizer.bin')), readFileSync(join(straight, 'checkpoint', 'optimizer.bin')));
});

for (const bad of ['0', 'two', '17', '1.5']) {
  test(`train --processes ${bad}: one line, exit code 2, nothing written`, () => {
    const out = join(scratch, `bad-${bad}`);
    const result = runCli([...RUN, '--processes', bad, '--out', out]);
    assert.equal(result.status, 2, result.stderr);
    assert.deepEqual(result.stderr.trim().split('\n'), [`ippro: --processes must be auto or an integer in 1..16, got '${bad}'`]);
    assert.equal(existsSync(out), false);
  });
}
