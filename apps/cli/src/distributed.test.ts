import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildSmallCnn, buildVit } from '@ippro/models';
import { pruneRunProgressOf } from '@ippro/orchestration';
import { initRuntime } from '@ippro/runtime';
import { connectTemporalClient } from '@ippro/temporal-connection';
import type { LiveProgress, PruneProgress, RoundMetrics, WorkPhase } from '@ippro/workflow-core';
import { PNG } from 'pngjs';
import type { DevStackInfo } from './stack';
import { runCli, splitRun, workspaceRoot } from './testing/run-cli';

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

async function startDev(workers: number, extra: readonly string[] = []): Promise<DevStack> {
  const stateDir = join(scratch, `dev-${workers}`);
  const log = join(scratch, `dev-${workers}.log`);
  const fd = openSync(log, 'w');
  const bin = join(__dirname, '..', 'bin', 'ippro.js');
  const child = spawn(process.execPath, [bin, 'dev', '--workers', String(workers), '--backend', 'cpu', '--no-ui', '--state-dir', stateDir, ...extra], { stdio: ['ignore', fd, fd] });
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

function devInfo(stack: DevStack): DevStackInfo {
  return JSON.parse(readFileSync(join(stack.stateDir, 'dev.json'), 'utf8')) as DevStackInfo;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Waits until what the stack logged after `from` (a length of its log) satisfies `done` (fails
 * after `timeoutMs`); the milliseconds it took.
 */
async function logShows(stack: DevStack, from: number, done: (logged: string) => boolean, what: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!done(readFileSync(stack.log, 'utf8').slice(from))) {
    if (Date.now() - started > timeoutMs) assert.fail(`not ${what} in ${timeoutMs / 1000} s:\n${readFileSync(stack.log, 'utf8')}`);
    await sleep(100);
  }
  return Date.now() - started;
}

/** The pool's size as `ippro dev` last reported it in `logged`. */
function lastPoolSize(logged: string): number | undefined {
  const sizes = [...logged.matchAll(/pool: (\d+) of \d+ workers healthy/g)];
  const last = sizes[sizes.length - 1];
  return last === undefined ? undefined : Number(last[1]);
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

/** `ippro prune` on the stack equals `--local` byte for byte, apart from where each ran and how long it took; status and runs show it. */
function checkEqualsLocal(stack: DevStack, workers: number): void {
  const out = join(scratch, `distributed-${workers}`);
  const result = runCli(['prune', '--model', modelDir, ...PRUNE_ARGS, ...RECOVERY_ARGS, '--state-dir', stack.stateDir, '--out', out, '--json', '--run-id', `equal-${workers}`]);
  assert.equal(result.status, 0, `${result.stderr}\n${readFileSync(stack.log, 'utf8')}`);
  const printed = JSON.parse(result.stdout) as { runId: string; history: unknown[] };
  assert.equal(printed.runId, `equal-${workers}`);
  const local = files(localOut);
  const distributed = files(out);
  assert.deepEqual(Object.keys(distributed).sort(), ['model.json', 'report.html', 'report.json', 'summary.json', 'weights.bin']);
  // The recorded configurations differ in where the run ran and wrote (--local, --out, --state-dir), and
  // the rounds' timings in how long they took; nothing else may.
  assert.equal(splitRun(distributed['report.json']).result, splitRun(local['report.json']).result, 'report.json differs');
  assert.ok(local['weights.bin']?.equals(distributed['weights.bin'] as Buffer), 'weights.bin differs');
  assert.ok(local['model.json']?.equals(distributed['model.json'] as Buffer), 'model.json differs');
  assert.deepEqual(splitRun(distributed['summary.json']).result, splitRun(local['summary.json']).result);
  assert.deepEqual([splitRun(local['summary.json']).config['local'], splitRun(distributed['summary.json']).config['local']], [true, false]);
  const facts = Object.fromEntries((JSON.parse(String(distributed['report.json'])) as { facts: [string, string][] }).facts);
  assert.equal(facts['fine-tuning data'], 'synthetic:cifar?n=40&seed=5&classes=10', 'the report names the data fine-tuning read');

  const status = runCli(['status', `equal-${workers}`, '--json', '--state-dir', stack.stateDir]);
  assert.equal(status.status, 0, status.stderr);
  const described = JSON.parse(status.stdout) as { status: string; progress: { phase: string; history: unknown[] } };
  assert.equal(described.status, 'COMPLETED');
  assert.equal(described.progress.phase, 'done');
  assert.equal(described.progress.history.length, printed.history.length);

  const runs = runCli(['runs', '--json', '--state-dir', stack.stateDir]);
  assert.equal(runs.status, 0, runs.stderr);
  const listed = JSON.parse(runs.stdout) as { runId: string; status: string; kind: string }[];
  assert.deepEqual(listed.find((run) => run.runId === `equal-${workers}`)?.status, 'COMPLETED');

  // A transformer through the same workflow and workers: heads, MLP neurons and embedding channels scored in shards, removed, tuned.
  const vitOut = join(scratch, `vit-distributed-${workers}`);
  const vit = runCli(['prune', '--model', vitModelDir, ...PRUNE_ARGS, '--state-dir', stack.stateDir, '--out', vitOut, '--json', '--run-id', `vit-${workers}`]);
  assert.equal(vit.status, 0, `${vit.stderr}\n${readFileSync(stack.log, 'utf8')}`);
  const [vitLocal, vitDistributed] = [files(vitLocalOut), files(vitOut)];
  assert.ok(vitLocal['weights.bin']?.equals(vitDistributed['weights.bin'] as Buffer), 'ViT weights.bin differs');
  assert.ok(vitLocal['model.json']?.equals(vitDistributed['model.json'] as Buffer), 'ViT model.json differs');
  assert.deepEqual(splitRun(vitDistributed['summary.json']).result, splitRun(vitLocal['summary.json']).result);
}

test("ippro prune on 'ippro dev --json' with 1 worker equals --local byte for byte; status and runs show it, and a comparison by its kind", async () => {
  const stack = await startDev(1, ['--json']);
  try {
    checkEqualsLocal(stack, 1);
    // dev --json: the running stack as dev.json holds it, instead of the summary.
    const logged = readFileSync(stack.log, 'utf8');
    assert.ok(logged.includes(JSON.stringify(devInfo(stack), null, 2)), logged);
    assert.doesNotMatch(logged, /ippro dev: running/);
    // A comparison on the same stack: listed with its kind, shown by status, and refused a pause.
    const compared = runCli(['compare', '--model', modelDir, '--data', 'synthetic:cifar?n=16&seed=1&classes=10', '--criteria', 'l1', '--target-channels', '0.3',
      '--batch-size', '8', '--eval-batch-size', '8', '--backend', 'cpu', '--state-dir', stack.stateDir, '--out', join(scratch, 'compare-1'), '--run-id', 'compare-1', '--json']);
    assert.equal(compared.status, 0, compared.stderr);
    const kinds = Object.fromEntries((JSON.parse(runCli(['runs', '--json', '--state-dir', stack.stateDir]).stdout) as { runId: string; kind: string }[]).map((run) => [run.runId, run.kind]));
    assert.deepEqual([kinds['equal-1'], kinds['compare-1']], ['prune', 'compare']);
    const comparison = JSON.parse(runCli(['status', 'compare-1', '--json', '--state-dir', stack.stateDir]).stdout) as { kind: string; status: string; progress: { phase: string } };
    assert.deepEqual([comparison.kind, comparison.status, comparison.progress.phase], ['compare', 'COMPLETED', 'done']);
    const paused = runCli(['pause', 'compare-1', '--state-dir', stack.stateDir]);
    assert.equal(paused.status, 2);
    assert.match(paused.stderr, /is a comparison: it has no round boundaries to pause at/);
  } finally {
    await stopDev(stack);
  }
});

describe("'ippro dev' with 2 workers", () => {
  let stack: DevStack;
  before(async () => {
    stack = await startDev(2, ['--metrics-port', '0']);
  });
  after(async () => {
    if (stack !== undefined) await stopDev(stack);
  });

  test('ippro prune equals --local byte for byte; status and runs show it', () => checkEqualsLocal(stack, 2));

  test('an image folder, an npz file and a model ending in logits: the data travels as dataset artifacts, and the run ends with the model --local makes', () => {
    const userOut = join(scratch, 'user-data-distributed');
    const userData = runCli(['prune', '--model', logitsModelDir, ...USER_DATA_ARGS, '--state-dir', stack.stateDir, '--out', userOut]);
    assert.equal(userData.status, 0, `${userData.stderr}\n${readFileSync(stack.log, 'utf8')}`);
    const [localFiles, distributedFiles] = [files(userDataLocalOut), files(userOut)];
    assert.ok(localFiles['weights.bin']?.equals(distributedFiles['weights.bin'] as Buffer), 'weights.bin differs');
    assert.ok(localFiles['model.json']?.equals(distributedFiles['model.json'] as Buffer), 'model.json differs');
    const summary = splitRun(distributedFiles['summary.json']);
    assert.deepEqual(summary.result, splitRun(localFiles['summary.json']).result);
    assert.equal((JSON.parse(summary.result) as { output: string }).output, 'logits');
    assert.equal(summary.config['output'], 'auto');
  });

  test('a worker killed mid-run is started again: the pool is back to its size within seconds, and the run ends byte-identical to --local', async () => {
    // Its calls are retried on the other worker meanwhile; `watch` follows the run to its end.
    const faultArgs = ['--model', wideModelDir, ...PRUNE_ARGS, '--rounds', '2', '--target-channels', '0.5'];
    const faultLocal = join(scratch, 'fault-local');
    assert.equal(runCli(['prune', '--local', ...faultArgs, '--out', faultLocal]).status, 0);
    assert.equal(runCli(['prune', ...faultArgs, '--state-dir', stack.stateDir, '--no-wait', '--run-id', 'with-kill']).status, 0);
    const before = devInfo(stack);
    assert.equal(before.workerPids.length, 2);
    for (let polls = 0; polls < 200; polls += 1) {
      const polled = JSON.parse(runCli(['status', 'with-kill', '--json', '--state-dir', stack.stateDir]).stdout) as { progress?: { round: number } };
      if ((polled.progress?.round ?? 0) >= 1) break;
    }
    // ippro dev starts the worker again on its address, and the orchestrator's pool takes it back.
    // Under load the other worker may miss a health check meanwhile too: the pool is back when the
    // killed worker is, and the last count says 2 of 2.
    const from = readFileSync(stack.log, 'utf8').length;
    process.kill(before.workerPids[0] as number, 'SIGKILL');
    const backAfterMs = await logShows(stack, from, (logged) => logged.includes(`${before.workers[0]} is back`) && lastPoolSize(logged) === 2, 'the pool back to 2 workers', 30_000);
    process.stderr.write(`# the pool was back to 2 workers ${(backAfterMs / 1000).toFixed(1)} s after the kill\n`);
    const log = readFileSync(stack.log, 'utf8').slice(from);
    assert.match(log, new RegExp(`worker 0 \\(${before.workers[0]}\\) exited \\(killed by SIGKILL\\); 1 of 2 workers running; restarting it in`));
    assert.match(log, /pool: 1 of 2 workers healthy/, 'the pool said it shrank');
    const restarted = devInfo(stack);
    assert.deepEqual(restarted.workers, before.workers, 'the same addresses');
    assert.notEqual(restarted.workerPids[0], before.workerPids[0], 'dev.json names the new worker process');
    assert.match(log, new RegExp(`worker 0 \\(${before.workers[0]}\\) restarted, pid ${restarted.workerPids[0]}; 2 of 2 workers running`));
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
  });

  test('pause, resume and cancel take effect at round boundaries', async () => {
    // cancel: the run stops at a round boundary; its result is the last finished round.
    const submitted = runCli(['prune', '--model', wideModelDir, ...PRUNE_ARGS, '--rounds', '8', '--target-channels', '0.6', '--repetitions', '1',
      '--state-dir', stack.stateDir, '--no-wait', '--run-id', 'to-cancel']);
    assert.equal(submitted.status, 0, submitted.stderr);
    assert.equal(submitted.stdout.trim(), 'to-cancel');
    // pause: the run waits at the next round boundary until resumed.
    const pause = runCli(['pause', 'to-cancel', '--json', '--state-dir', stack.stateDir]);
    assert.equal(pause.status, 0, pause.stderr);
    assert.deepEqual(JSON.parse(pause.stdout), { runId: 'to-cancel', kind: 'prune', action: 'pause', sentTo: 'to-cancel' });
    let waiting: { progress?: { phase: string; history: unknown[] } } = {};
    for (let polls = 0; polls < 200 && waiting.progress?.phase !== 'paused'; polls += 1) {
      waiting = JSON.parse(runCli(['status', 'to-cancel', '--json', '--state-dir', stack.stateDir]).stdout) as typeof waiting;
    }
    assert.equal(waiting.progress?.phase, 'paused');
    const pausedAt = waiting.progress?.history.length;
    await sleep(1500);
    const still = JSON.parse(runCli(['status', 'to-cancel', '--json', '--state-dir', stack.stateDir]).stdout) as typeof waiting;
    assert.deepEqual([still.progress?.phase, still.progress?.history.length], ['paused', pausedAt], 'a paused run stays at its boundary');
    assert.equal(runCli(['resume', 'to-cancel', '--state-dir', stack.stateDir]).status, 0);
    let finishedRounds = 0;
    for (let polls = 0; polls < 200 && finishedRounds <= (pausedAt ?? 0); polls += 1) {
      const polled = runCli(['status', 'to-cancel', '--json', '--state-dir', stack.stateDir]);
      finishedRounds = (JSON.parse(polled.stdout) as { progress?: { history: unknown[] } }).progress?.history.length ?? 0;
    }
    assert.ok(finishedRounds > (pausedAt ?? 0), 'resumed, it runs on');
    const cancelled = runCli(['cancel', 'to-cancel', '--wait', '--state-dir', stack.stateDir]);
    assert.equal(cancelled.status, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /stopped \(cancelled\)/);
    const stopped = JSON.parse(runCli(['status', 'to-cancel', '--json', '--state-dir', stack.stateDir]).stdout) as {
      status: string;
      progress: { stoppedBecause: string; history: { round: number }[]; rounds: number };
    };
    assert.equal(stopped.status, 'COMPLETED');
    assert.equal(stopped.progress.stoppedBecause, 'cancelled');
    assert.ok(stopped.progress.history.length >= 1 && stopped.progress.history.length < 8, `rounds done: ${stopped.progress.history.length}`);
    const again = runCli(['cancel', 'to-cancel', '--state-dir', stack.stateDir]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /is not running \(COMPLETED\)/);
  });

  test('the live progress adds up to the real totals: polled, in status --json and in the metrics', () => checkProgressTotals(stack));
});

/**
 * The numbers of the live progress add up to the run's real work: polled through the same
 * reading `status` makes (the `progress` query and the pending activities' heartbeats), through
 * `status --json` and through the orchestrator's Prometheus metrics, each phase's total is its
 * shards' images or its replicas' steps, and the rounds' timings count exactly that work.
 */
async function checkProgressTotals(stack: DevStack): Promise<void> {
  const scoring = 48;
  const evaluation = 40;
  const [steps, replicas, repetitions, batchSize, layerShards, rounds] = [4, 2, 2, 8, 2, 2];
  const expected: Record<WorkPhase, { total: number; images: number; steps?: number }> = {
    scoring: { total: scoring * layerShards, images: scoring * layerShards },
    'fine-tuning': { total: steps * replicas * repetitions, images: steps * replicas * repetitions * batchSize, steps: steps * replicas * repetitions },
    evaluating: { total: evaluation, images: evaluation },
  };
  const submitted = runCli(['prune', '--model', wideModelDir, ...PRUNE_ARGS, '--data', `synthetic:cifar?n=${scoring}&seed=1&classes=10`,
    '--eval-data', `synthetic:cifar?n=${evaluation}&seed=3&classes=10`, '--finetune-steps', String(steps), '--rounds', String(rounds), '--target-channels', '0.4',
    '--state-dir', stack.stateDir, '--no-wait', '--run-id', 'totals']);
  assert.equal(submitted.status, 0, submitted.stderr);
  const info = devInfo(stack);
  const client = await connectTemporalClient({ address: info.temporal.address, namespace: info.temporal.namespace });
  const seen: LiveProgress[] = [];
  const scraped: [string, string, number][] = [];
  let statusJson: { live: LiveProgress | null } | undefined;
  try {
    let finished = false;
    const result = client.workflow.getHandle('totals').result().finally(() => {
      finished = true;
    });
    while (!finished) {
      const read = await pruneRunProgressOf(client, 'totals');
      if (read?.live.work !== undefined) seen.push(read.live);
      const text = await fetch(info.metrics?.orchestrator ?? '').then((response) => response.text(), () => '');
      for (const match of text.matchAll(/^ippro_run_work_total\{run_id="totals",phase="([^"]+)",unit="([^"]+)"\} (\d+)$/gm)) scraped.push([match[1] ?? '', match[2] ?? '', Number(match[3])]);
      if (statusJson === undefined && read?.live.work !== undefined) {
        const status = runCli(['status', 'totals', '--json', '--state-dir', stack.stateDir]);
        assert.equal(status.status, 0, status.stderr);
        statusJson = JSON.parse(status.stdout) as { live: LiveProgress | null };
      }
      await Promise.race([sleep(250), result.catch(() => undefined)]);
    }
    await result;
  } finally {
    await client.connection.close();
  }
  assert.ok(new Set(seen.map((live) => live.work?.phase)).size >= 2, `phases seen live: ${[...new Set(seen.map((live) => live.work?.phase))].join(', ')}`);
  for (const live of seen) {
    const work = live.work as NonNullable<LiveProgress['work']>;
    assert.equal(work.total, expected[work.phase].total, `${work.phase} total in round ${live.round}`);
    assert.ok(work.done >= 0 && work.done <= work.total, `${work.phase}: ${work.done} of ${work.total}`);
    assert.ok(work.images <= expected[work.phase].images, `${work.phase}: ${work.images} images`);
  }
  assert.ok(statusJson?.live !== null && statusJson?.live !== undefined, 'status --json shows the live progress');
  assert.ok(scraped.length > 0, 'the orchestrator exported the run\'s progress');
  for (const [phase, unit, total] of scraped) {
    assert.equal(total, expected[phase as WorkPhase].total, `ippro_run_work_total of ${phase}`);
    assert.equal(unit, phase === 'fine-tuning' ? 'steps' : 'images');
  }

  const final = JSON.parse(runCli(['status', 'totals', '--json', '--state-dir', stack.stateDir]).stdout) as { progress: PruneProgress };
  const done: RoundMetrics[] = final.progress.history;
  assert.equal(done.length, rounds);
  assert.deepEqual(final.progress.baseline?.timing?.phases.map((phase) => [phase.phase, phase.images]), [['evaluating', evaluation]]);
  const sum = (phase: WorkPhase, field: 'images' | 'steps'): number =>
    done.reduce((total, round) => total + (round.timing?.phases.find((entry) => entry.phase === phase)?.[field] ?? 0), 0);
  assert.equal(sum('scoring', 'images'), scoring * layerShards * rounds, 'images scored = scoring set x layer shards x rounds');
  assert.equal(sum('fine-tuning', 'steps'), steps * replicas * repetitions * rounds, 'steps = the configured steps');
  assert.equal(sum('fine-tuning', 'images'), steps * replicas * repetitions * batchSize * rounds);
  assert.equal(sum('evaluating', 'images'), evaluation * rounds);
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
