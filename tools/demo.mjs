#!/usr/bin/env node
// The one-command demo (`npm run demo` = `npm run build && node tools/demo.mjs`):
// starts the embedded stack (`ippro dev`: Temporal dev server, artifact service, one worker per
// core, the orchestrator), runs `ippro prune --config demo.yaml` (the committed baseline model on
// real CIFAR-10 to 50% fewer FLOPs in 3 rounds with fine-tuning: the run's settings are in
// demo.yaml at the repository root), shows progress and the per-round table, writes the pruned
// model and summary.json to demo-output/, and stops the stack. Only what depends on this machine is
// given as flags: the state, data and output directories and --max-parallel.
//
// Knobs (environment), each overriding demo.yaml through a flag when set: DEMO_SCORE_SAMPLES
// (scoring data, the first N training images; the file: 2560), DEMO_EVAL_SAMPLES (the first N test
// images; the file: all 10000), DEMO_FINETUNE_STEPS (SGD steps per replica between two weight
// averages; the file: 100), DEMO_REPETITIONS (averages per round; the file: 2), DEMO_FINETUNE_LR
// (the file: 0.05, decayed to 0 over each round), DEMO_MODEL (a model directory instead of the
// file's models/resnet20-cifar10, or models/small-cifar10 when that is missing), DEMO_BACKEND
// (default auto). And DEMO_WORKERS (default: one per core), DEMO_STATE_DIR (default .ippro/demo).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const cli = join(root, 'apps', 'cli', 'bin', 'ippro.js');
const env = process.env;
const say = (line) => process.stderr.write(`demo: ${line}\n`);

function fail(message, code = 1) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(code);
}

if (!existsSync(join(root, 'apps', 'cli', 'dist', 'main.js'))) fail("the project is not built: run 'npm run build' first (or 'npm run demo')", 2);

// 0. The native TensorFlow backend (tfjs-node on a TensorFlow wheel's library; about a second
// when already set up): without it the demo runs on wasm, several times slower.
if ((env.DEMO_BACKEND ?? 'auto') === 'auto') {
  const setup = spawnSync(process.execPath, [join(root, 'tools', 'setup-native.mjs')], { stdio: ['ignore', 2, 2] });
  if (setup.status !== 0) say('the native backend could not be set up (npm run setup:native, see above): the demo runs on wasm and takes several times longer');
}

// 1. The baseline model: models/resnet20-cifar10/ (DEMO_MODEL=models/small-cifar10 for the small CNN).
function modelIn(dir) {
  for (const candidate of [dir, join(dir, 'model')]) if (existsSync(join(candidate, 'model.json'))) return candidate;
  return undefined;
}
const modelDirs = ['resnet20-cifar10', 'small-cifar10'].map((name) => join(root, 'models', name));
const model = env.DEMO_MODEL ? modelIn(resolve(env.DEMO_MODEL)) : modelDirs.map(modelIn).find((dir) => dir !== undefined);
if (env.DEMO_MODEL && model === undefined) fail(`DEMO_MODEL ${env.DEMO_MODEL} holds no model.json`, 2);
if (model === undefined) {
  fail(
    `no baseline model: expected ${relative(process.cwd(), modelDirs[0])}/model.json (or ${relative(process.cwd(), modelDirs[1])}/model.json).\n` +
      '  Create it with ippro train, e.g.:\n' +
      '    node apps/cli/bin/ippro.js train --arch resnet20 --data cifar10:train --epochs 30 --out tmp/resnet20-run\n' +
      '    mkdir -p models && cp -r tmp/resnet20-run/model models/resnet20-cifar10',
    2,
  );
}

// 2. CIFAR-10: the shared copy, else the user's cache (downloaded when missing).
const data = require(join(root, 'libs', 'data', 'dist', 'index.js'));
const shared = resolve(root, '..', 'shared', 'datasets', 'cifar10');
let dataDir = data.cifar10FilesPresent(shared) ? shared : join(homedir(), '.cache', 'ippro', 'cifar10');
if (!data.cifar10FilesPresent(dataDir)) {
  say(`CIFAR-10 not found in ${shared} or ${dataDir}: downloading it to ${dataDir}`);
  let shown = -10;
  const result = await data.downloadCifar10({
    directory: dataDir,
    onProgress: (received, total) => {
      const percent = total ? Math.floor((100 * received) / total) : 0;
      if (percent >= shown + 10) {
        shown = percent;
        say(`downloaded ${(received / 1e6).toFixed(0)} MB${total ? ` of ${(total / 1e6).toFixed(0)} MB` : ''}`);
      }
    },
  }).catch((error) => fail(`cannot download CIFAR-10: ${error.message}`));
  dataDir = result.directory;
}

/** A knob's value, undefined when unset; a bad one is bad input. */
const positive = (name) => {
  if (env[name] === undefined || env[name] === '') return undefined;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer, got '${env[name]}'`, 2);
  return value;
};
const scoreSamples = positive('DEMO_SCORE_SAMPLES');
const evalSamples = positive('DEMO_EVAL_SAMPLES');
const finetuneSteps = positive('DEMO_FINETUNE_STEPS');
const repetitions = positive('DEMO_REPETITIONS');
const finetuneLr = env.DEMO_FINETUNE_LR === undefined || env.DEMO_FINETUNE_LR === '' ? undefined : Number(env.DEMO_FINETUNE_LR);
if (finetuneLr !== undefined && !(finetuneLr > 0)) fail(`DEMO_FINETUNE_LR must be a positive number, got '${env.DEMO_FINETUNE_LR}'`, 2);
const workers = positive('DEMO_WORKERS') ?? availableParallelism();
const backend = env.DEMO_BACKEND ?? 'auto';
const stateDir = resolve(env.DEMO_STATE_DIR ?? join(root, '.ippro', 'demo'));
const out = join(root, 'demo-output');

// 3. The stack.
say(`model ${relative(root, model)}, CIFAR-10 in ${dataDir}, ${workers} worker(s), backend ${backend}`);
say(`starting the embedded stack (state in ${relative(root, stateDir)})`);
rmSync(join(stateDir, 'dev.json'), { force: true });
const dev = spawn(process.execPath, [cli, 'dev', '--state-dir', stateDir, '--workers', String(workers), '--backend', backend, '--data-dir', dataDir], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let devLog = '';
dev.stdout.on('data', (chunk) => process.stderr.write(chunk));
dev.stderr.on('data', (chunk) => {
  devLog += chunk;
});
const devExited = new Promise((done) => dev.once('exit', (code) => done(code)));
let stopping;
const stopStack = () =>
  (stopping ??= (async () => {
    if (dev.exitCode === null && dev.signalCode === null) {
      say('stopping the stack');
      dev.kill('SIGINT');
    }
    return devExited;
  })());
process.on('SIGINT', () => {
  say('interrupted');
  void stopStack().then(() => process.exit(130));
});

const deadline = Date.now() + 180_000;
while (!existsSync(join(stateDir, 'dev.json'))) {
  if (dev.exitCode !== null || Date.now() > deadline) {
    await stopStack();
    fail(`the stack did not start:\n${devLog}`);
  }
  await new Promise((done) => setTimeout(done, 250));
}

// 4. The run: 50% fewer FLOPs in 3 rounds, fine-tuning after each (local SGD, one replica per worker).
if (existsSync(out)) {
  rmSync(`${out}.previous`, { recursive: true, force: true });
  renameSync(out, `${out}.previous`);
  say(`kept the previous demo-output/ as demo-output.previous/`);
}
// The knobs that are set, as flags over demo.yaml's values.
const knobs = [
  ...(env.DEMO_MODEL || model !== modelDirs[0] ? ['--model', model] : []),
  ...(scoreSamples === undefined ? [] : ['--data', `cifar10:train[0:${scoreSamples}]`]),
  ...(evalSamples === undefined ? [] : ['--eval-data', evalSamples >= 10000 ? 'cifar10:test' : `cifar10:test[0:${evalSamples}]`]),
  ...(finetuneSteps === undefined ? [] : ['--finetune-steps', String(finetuneSteps)]),
  ...(repetitions === undefined ? [] : ['--repetitions', String(repetitions)]),
  ...(finetuneLr === undefined ? [] : ['--finetune-lr', String(finetuneLr)]),
  ...(env.DEMO_BACKEND === undefined ? [] : ['--backend', backend]),
];
const pruneArgs = [
  cli, 'prune',
  '--config', join(root, 'demo.yaml'),
  '--state-dir', stateDir,
  '--data-dir', dataDir,
  '--out', out,
  '--max-parallel', String(workers),
  ...knobs,
];
const code = await new Promise((done) => {
  // demo.yaml's paths are relative to the repository root.
  const prune = spawn(process.execPath, pruneArgs, { stdio: 'inherit', cwd: root });
  prune.once('exit', (exitCode) => done(exitCode ?? 1));
});
const devCode = await stopStack();
if (devCode !== 0) process.stderr.write(devLog);
if (code !== 0) fail(`ippro prune failed (exit ${code})`, code);

const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
const first = summary.baseline;
const last = [first, ...summary.history].find((round) => round.round === summary.resultRound) ?? first;
say(
  `done: FLOPs ${first.flops} -> ${last.flops} (${((100 * last.flops) / first.flops).toFixed(1)}%), ` +
    `params ${first.params} -> ${last.params}, top-1 ${(100 * first.top1).toFixed(2)}% -> ${(100 * last.top1).toFixed(2)}%`,
);
say(`pruned model and summary.json in ${relative(process.cwd(), out) || '.'}/`);
