import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildSmallCnn, buildVit } from '@ippro/models';
import { initRuntime } from '@ippro/runtime';
import { PNG } from 'pngjs';
import { runCli, splitConfig, workspaceRoot } from './testing/run-cli';

/**
 * The distributed path end to end: `ippro dev` as a child process (a real Temporal dev server, the
 * artifact service, real `ippro worker` processes over gRPC on loopback, the orchestrator), then
 * `ippro prune` against it, compared byte for byte with `ippro prune --local`, recalibration and
 * distillation included.
 */
const scratch = mkdtempSync(join(tmpdir(), 'ippro-distributed-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const modelDir = join(scratch, 'tiny-cnn');
/** Wider (8 and 16 filters), so that every one of 8 rounds has channels to remove. */
const wideModelDir = join(scratch, 'wide-cnn');
/** A ViT of 16 patch tokens and a class token, width 8, two blocks of 2 heads: heads, MLP neurons and embedding channels go. */
const vitModelDir = join(scratch, 'tiny-vit');

const PRUNE_ARGS = [
  '--data', 'synthetic:cifar?n=32&seed=1&classes=10',
  '--eval-data', 'synthetic:cifar?n=32&seed=3&classes=10',
  '--target-channels', '0.3', '--rounds', '2', '--lambda', '1',
  '--finetune-steps', '2', '--finetune-lr', '0.05', '--replicas', '2', '--repetitions', '2',
  '--finetune-schedule', 'cosine', '--finetune-data', 'synthetic:cifar?n=40&seed=5&classes=10',
  '--batch-size', '8', '--eval-batch-size', '8', '--score-shards', '2', '--layer-shards', '2', '--max-parallel', '2',
  '--seed', '7', '--backend', 'cpu',
];

/**
 * Recovery as the workers run it, in the runs compared with --local: batch-norm recalibration after
 * every surgery (a pass sharded like scoring) and distillation from the input model, which the
 * workers' model pools hold.
 */
const RECOVERY_ARGS = ['--bn-recalibration-batches', '3', '--distill-weight', '0.5', '--temperature', '2'];

interface DevStack {
  stateDir: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

async function startDev(workers: number): Promise<DevStack> {
  const stateDir = join(scratch, `dev-${workers}`);
  const log = join(scratch, `dev-${workers}.log`);
  const fd = openSync(log, 'w');
  const bin = join(__dirname, '..', 'bin', 'ippro.js');
  const child = spawn(process.execPath, [bin, 'dev', '--workers', String(workers), '--backend', 'cpu', '--no-ui', '--state-dir', stateDir], { stdio: ['ignore', fd, fd] });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const deadline = Date.now() + 90_000;
  while (!existsSync(join(stateDir, 'dev.json'))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`ippro dev did not start:\n${readFileSync(log, 'utf8')}`);
    await new Promise((done) => setTimeout(done, 200));
  }
  return { stateDir, child, log, exited };
}

async function stopDev(stack: DevStack): Promise<void> {
  stack.child.kill('SIGINT');
  assert.equal(await stack.exited, 0, readFileSync(stack.log, 'utf8'));
  assert.equal(existsSync(join(stack.stateDir, 'dev.json')), false, 'dev.json is removed on stop');
}

function files(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

/** User data: a folder of PNG images (3 classes, 6x6, fitted to the model's 4x4 input), an npz file NumPy wrote, and a model ending in logits. */
const imagesDir = join(scratch, 'images');
const logitsModelDir = join(scratch, 'logits-cnn');
const USER_DATA_ARGS = [
  '--data', `images:${imagesDir}?split=train&val=0.25`,
  '--eval-data', `npz:${join(workspaceRoot(), 'libs', 'data', 'src', 'testing', 'fixtures', 'numpy-savez.npz')}`,
  '--finetune-data', `images:${imagesDir}`,
  '--normalize', 'mean=0.5,std=0.25',
  '--target-channels', '0.3', '--rounds', '2', '--lambda', '1',
  '--finetune-steps', '2', '--finetune-lr', '0.05', '--replicas', '2',
  '--batch-size', '4', '--eval-batch-size', '2', '--score-shards', '2', '--max-parallel', '2',
  '--seed', '3', '--backend', 'cpu',
];

function writeImages(): void {
  ['circle', 'square', 'triangle'].forEach((name, label) => {
    mkdirSync(join(imagesDir, name), { recursive: true });
    for (let i = 0; i < 8; i += 1) {
      const png = new PNG({ width: 6, height: 6 });
      for (let p = 0; p < png.data.length; p += 1) png.data[p] = p % 4 === 3 ? 255 : (label * 80 + i * 9 + p * 5) % 256;
      writeFileSync(join(imagesDir, name, `${i}.png`), PNG.sync.write(png, { colorType: 2 }));
    }
  });
}

let localOut: string;
let userDataLocalOut: string;
let vitLocalOut: string;

before(async () => {
  await initRuntime({ backend: 'cpu' });
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed: 1 });
  await saveLayersModelToDir(model, modelDir);
  model.dispose();
  const wide = buildSmallCnn({ widths: [8, 16], numClasses: 10, seed: 2 });
  await saveLayersModelToDir(wide, wideModelDir);
  wide.dispose();
  const vit = buildVit({ patchSize: 8, dModel: 8, depth: 2, numHeads: 2, mlpDim: 12, numClasses: 10, seed: 3, pooling: 'class-token' });
  await saveLayersModelToDir(vit, vitModelDir);
  vit.dispose();
  vitLocalOut = join(scratch, 'vit-local');
  const vitLocal = runCli(['prune', '--local', '--model', vitModelDir, ...PRUNE_ARGS, '--out', vitLocalOut, '--json']);
  assert.equal(vitLocal.status, 0, vitLocal.stderr);
  localOut = join(scratch, 'local');
  const local = runCli(['prune', '--local', '--model', modelDir, ...PRUNE_ARGS, ...RECOVERY_ARGS, '--out', localOut, '--json']);
  assert.equal(local.status, 0, local.stderr);
  writeImages();
  const logits = buildSmallCnn({ widths: [4, 8], numClasses: 3, seed: 4, inputShape: [4, 4, 3], output: 'logits' });
  await saveLayersModelToDir(logits, logitsModelDir);
  logits.dispose();
  userDataLocalOut = join(scratch, 'user-data-local');
  const userData = runCli(['prune', '--local', '--model', logitsModelDir, ...USER_DATA_ARGS, '--out', userDataLocalOut]);
  assert.equal(userData.status, 0, userData.stderr);
  assert.match(userData.stderr, /classes: circle=0, square=1, triangle=2 \(--data images:/);
});

after(() => rmSync(scratch, { recursive: true, force: true }));

for (const workers of [1, 2]) {
  test(`ippro prune on 'ippro dev' with ${workers} worker(s) equals --local byte for byte; status and runs show it`, async () => {
    const started = Date.now();
    const stack = await startDev(workers);
    try {
      const out = join(scratch, `distributed-${workers}`);
      const result = runCli(['prune', '--model', modelDir, ...PRUNE_ARGS, ...RECOVERY_ARGS, '--state-dir', stack.stateDir, '--out', out, '--json', '--run-id', `equal-${workers}`]);
      assert.equal(result.status, 0, `${result.stderr}\n${readFileSync(stack.log, 'utf8')}`);
      const printed = JSON.parse(result.stdout) as { runId: string; history: unknown[] };
      assert.equal(printed.runId, `equal-${workers}`);
      const local = files(localOut);
      const distributed = files(out);
      assert.deepEqual(Object.keys(distributed).sort(), ['model.json', 'report.html', 'report.json', 'summary.json', 'weights.bin']);
      // The recorded configurations differ in where the run ran and wrote (--local, --out, --state-dir); nothing else may.
      assert.equal(splitConfig(distributed['report.json']).result, splitConfig(local['report.json']).result, 'report.json differs');
      assert.ok(local['weights.bin']?.equals(distributed['weights.bin'] as Buffer), 'weights.bin differs');
      assert.ok(local['model.json']?.equals(distributed['model.json'] as Buffer), 'model.json differs');
      assert.deepEqual(splitConfig(distributed['summary.json']).result, splitConfig(local['summary.json']).result);
      assert.deepEqual([splitConfig(local['summary.json']).config['local'], splitConfig(distributed['summary.json']).config['local']], [true, false]);

      const status = runCli(['status', `equal-${workers}`, '--json', '--state-dir', stack.stateDir]);
      assert.equal(status.status, 0, status.stderr);
      const described = JSON.parse(status.stdout) as { status: string; progress: { phase: string; history: unknown[] } };
      assert.equal(described.status, 'COMPLETED');
      assert.equal(described.progress.phase, 'done');
      assert.equal(described.progress.history.length, printed.history.length);

      const runs = runCli(['runs', '--json', '--state-dir', stack.stateDir]);
      assert.equal(runs.status, 0, runs.stderr);
      const listed = JSON.parse(runs.stdout) as { runId: string; status: string }[];
      assert.deepEqual(listed.find((run) => run.runId === `equal-${workers}`)?.status, 'COMPLETED');

      // A transformer through the same workflow and workers: heads, MLP neurons and embedding channels scored in shards, removed, tuned.
      const vitOut = join(scratch, `vit-distributed-${workers}`);
      const vit = runCli(['prune', '--model', vitModelDir, ...PRUNE_ARGS, '--state-dir', stack.stateDir, '--out', vitOut, '--json', '--run-id', `vit-${workers}`]);
      assert.equal(vit.status, 0, `${vit.stderr}\n${readFileSync(stack.log, 'utf8')}`);
      const [vitLocal, vitDistributed] = [files(vitLocalOut), files(vitOut)];
      assert.ok(vitLocal['weights.bin']?.equals(vitDistributed['weights.bin'] as Buffer), 'ViT weights.bin differs');
      assert.ok(vitLocal['model.json']?.equals(vitDistributed['model.json'] as Buffer), 'ViT model.json differs');
      assert.deepEqual(splitConfig(vitDistributed['summary.json']).result, splitConfig(vitLocal['summary.json']).result);

      if (workers === 2) {
        // An image folder, an npz file and a model ending in logits: the data travels as dataset
        // artifacts, and the run ends with the model --local makes, byte for byte.
        const userOut = join(scratch, 'user-data-distributed');
        const userData = runCli(['prune', '--model', logitsModelDir, ...USER_DATA_ARGS, '--state-dir', stack.stateDir, '--out', userOut]);
        assert.equal(userData.status, 0, `${userData.stderr}\n${readFileSync(stack.log, 'utf8')}`);
        const [localFiles, distributedFiles] = [files(userDataLocalOut), files(userOut)];
        assert.ok(localFiles['weights.bin']?.equals(distributedFiles['weights.bin'] as Buffer), 'weights.bin differs');
        assert.ok(localFiles['model.json']?.equals(distributedFiles['model.json'] as Buffer), 'model.json differs');
        const summary = splitConfig(distributedFiles['summary.json']);
        assert.deepEqual(summary.result, splitConfig(localFiles['summary.json']).result);
        assert.equal((JSON.parse(summary.result) as { output: string }).output, 'logits');
        assert.equal(summary.config['output'], 'auto');

        // A worker killed mid-run: its calls are retried on the other one; `watch` follows the run to
        // its end, and the result is still byte-identical to --local.
        const faultArgs = ['--model', wideModelDir, ...PRUNE_ARGS, '--rounds', '2', '--target-channels', '0.5'];
        const faultLocal = join(scratch, 'fault-local');
        assert.equal(runCli(['prune', '--local', ...faultArgs, '--out', faultLocal]).status, 0);
        assert.equal(runCli(['prune', ...faultArgs, '--state-dir', stack.stateDir, '--no-wait', '--run-id', 'with-kill']).status, 0);
        const pids = (JSON.parse(readFileSync(join(stack.stateDir, 'dev.json'), 'utf8')) as { workerPids: number[] }).workerPids;
        assert.equal(pids.length, 2);
        for (let polls = 0; polls < 200; polls += 1) {
          const polled = JSON.parse(runCli(['status', 'with-kill', '--json', '--state-dir', stack.stateDir]).stdout) as { progress?: { round: number } };
          if ((polled.progress?.round ?? 0) >= 1) break;
        }
        process.kill(pids[0] as number, 'SIGKILL');
        const watched = runCli(['watch', 'with-kill', '--state-dir', stack.stateDir]);
        assert.equal(watched.status, 0, `${watched.stderr}\n${readFileSync(stack.log, 'utf8')}`);
        assert.match(watched.stdout, /result: round 2/);
        // Artifact ids are sha256 digests of the model bytes: equal ids, equal bytes.
        const finished = JSON.parse(runCli(['status', 'with-kill', '--json', '--state-dir', stack.stateDir]).stdout) as {
          progress: { currentModelArtifactId: string };
        };
        const local = JSON.parse(readFileSync(join(faultLocal, 'summary.json'), 'utf8')) as { modelArtifactId: string };
        assert.equal(finished.progress.currentModelArtifactId, local.modelArtifactId, 'the model after a killed worker equals --local');
        assert.match(readFileSync(stack.log, 'utf8'), /worker 0 .* exited/);

        // cancel: the run stops at a round boundary; its result is the last finished round.
        const submitted = runCli(['prune', '--model', wideModelDir, ...PRUNE_ARGS, '--rounds', '8', '--target-channels', '0.6', '--repetitions', '1',
          '--state-dir', stack.stateDir, '--no-wait', '--run-id', 'to-cancel']);
        assert.equal(submitted.status, 0, submitted.stderr);
        assert.equal(submitted.stdout.trim(), 'to-cancel');
        let finishedRounds = 0;
        for (let polls = 0; polls < 200 && finishedRounds < 1; polls += 1) {
          const polled = runCli(['status', 'to-cancel', '--json', '--state-dir', stack.stateDir]);
          finishedRounds = (JSON.parse(polled.stdout) as { progress?: { history: unknown[] } }).progress?.history.length ?? 0;
        }
        const cancelled = runCli(['cancel', 'to-cancel', '--wait', '--state-dir', stack.stateDir]);
        assert.equal(cancelled.status, 0, cancelled.stderr);
        assert.match(cancelled.stdout, /stopped \(cancelled\)/);
        const after = JSON.parse(runCli(['status', 'to-cancel', '--json', '--state-dir', stack.stateDir]).stdout) as {
          status: string;
          progress: { stoppedBecause: string; history: { round: number }[]; rounds: number };
        };
        assert.equal(after.status, 'COMPLETED');
        assert.equal(after.progress.stoppedBecause, 'cancelled');
        assert.ok(after.progress.history.length >= 1 && after.progress.history.length < 8, `rounds done: ${after.progress.history.length}`);
        const again = runCli(['cancel', 'to-cancel', '--state-dir', stack.stateDir]);
        assert.equal(again.status, 2);
        assert.match(again.stderr, /is not running \(COMPLETED\)/);
      }
    } finally {
      await stopDev(stack);
    }
    process.stderr.write(`# ${workers} worker(s): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
}

/** Exit code 2 and one `ippro: ...` line (backend lines aside). */
function assertBadInput(args: string[], says: RegExp): void {
  const result = runCli(args);
  assert.equal(result.status, 2, `${result.stdout}\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: '));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] ?? '', /^ippro: /);
  assert.match(lines[0] ?? '', says);
}

test('bad input to the distributed commands: exit 2 with one clear line, before any work', () => {
  const noStack = join(scratch, 'no-stack');
  const out = join(scratch, 'never');
  assertBadInput(['prune', '--model', join(scratch, 'missing-model'), ...PRUNE_ARGS, '--state-dir', noStack, '--out', out], /missing-model.*does not exist/);
  assertBadInput(['prune', '--model', modelDir, ...PRUNE_ARGS, '--data', 'cifar10:validation', '--state-dir', noStack, '--out', out], /--data: dataset spec 'cifar10:validation'/);
  assertBadInput(['prune', '--model', modelDir, ...PRUNE_ARGS, '--finetune-schedule', 'linear', '--state-dir', noStack, '--out', out], /--finetune-schedule.*linear/);
  assertBadInput(['dev', '--workers', '0', '--state-dir', noStack], /--workers: the worker pool is empty/);
  assertBadInput(['dev', '--workers', ',', '--state-dir', noStack], /--workers: the worker pool is empty/);
  assertBadInput(['prune', '--model', modelDir, ...PRUNE_ARGS, '--temporal', '127.0.0.1:1', '--artifacts', '127.0.0.1:1', '--out', out], /cannot reach Temporal at 127\.0\.0\.1:1/);
  assertBadInput(['status', 'some-run', '--state-dir', noStack], /no running stack: .*dev\.json does not exist/);
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(noStack), false);
});
