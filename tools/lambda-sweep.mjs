#!/usr/bin/env node
// The sweep behind PROscore's default lambda (docs/ippro.md, section 8): one-shot pruning of
// a trained model at a FLOPs target, no fine-tuning, for each lambda, judged on training
// images the scoring pass did not use. The CIFAR-10 test set is never looked at.
// Usage: node tools/lambda-sweep.mjs [--model DIR] [--data-dir DIR] [--target 0.3]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'models', 'small-cifar10') },
    'data-dir': { type: 'string', default: join(root, '..', 'shared', 'datasets', 'cifar10') },
    target: { type: 'string', default: '0.3' },
    out: { type: 'string', default: join(root, 'bench-results', 'lambda-sweep.json') },
  },
});
const lambdas = ['0.001', '0.01', '0.1', '1', '10'];
const scoring = 'cifar10:train[0:2000]';
const validation = 'cifar10:train[45000:50000]';
const scratch = mkdtempSync(join(tmpdir(), 'ippro-lambda-sweep-'));

function prune(criterion, lambda) {
  const out = join(scratch, `${criterion}-${lambda ?? 'none'}`);
  const args = [join(root, 'apps/cli/bin/ippro.js'), 'prune', '--local', '--model', values.model,
    '--data', scoring, '--eval-data', validation, '--data-dir', values['data-dir'],
    '--criterion', criterion, '--target-flops', values.target, '--rounds', '1',
    '--finetune-steps', '0', '--batch-size', '100', '--backend', 'wasm', '--out', out, '--json'];
  if (lambda !== undefined) args.push('--lambda', lambda);
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`prune with ${criterion} ${lambda ?? ''} failed`);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const last = summary.history.at(-1);
  return { criterion, lambda: lambda === undefined ? null : Number(lambda), baselineTop1: summary.baseline.top1,
    top1: last.top1, loss: last.loss, flopsKept: last.flops / summary.baseline.flops };
}

const rows = [...lambdas.map((lambda) => prune('proscore', lambda)), prune('l2'), prune('taylor')];
rmSync(scratch, { recursive: true, force: true });
console.log(`one-shot, ${values.target} of FLOPs removed, scored on ${scoring}, judged on ${validation}`);
console.log('criterion  lambda   top-1    loss    FLOPs kept');
for (const row of rows) {
  console.log(`${row.criterion.padEnd(9)}  ${String(row.lambda ?? '-').padEnd(7)}  ${(row.top1 * 100).toFixed(2)}%  ${row.loss.toFixed(4)}  ${(row.flopsKept * 100).toFixed(1)}%`);
}
mkdirSync(join(values.out, '..'), { recursive: true });
writeFileSync(values.out, `${JSON.stringify({ target: Number(values.target), scoring, validation, rows }, null, 2)}\n`);
console.log(`written: ${values.out}`);
