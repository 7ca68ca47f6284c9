import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildSmallCnn } from '@ippro/models';
import { pruneRunInputOf, startOrchestrator, startPrune } from '@ippro/orchestration';
import type { OrchestratorHandle, ScheduledPruneResult } from '@ippro/orchestration';
import { initRuntime } from '@ippro/runtime';
import { connectTemporalClient } from '@ippro/temporal-connection';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { runCliAsync } from './testing/run-cli';
import { splitRun } from './testing/run-cli';

/**
 * `ippro watch RUN --out DIR` against a real Temporal dev server and an orchestrator in this
 * process (computing in-process, its store the directory the CLI reads with --store): the
 * directory a detached run's watcher writes is the one the submitting command writes with --out.
 */
Runtime.install({ logger: new DefaultLogger('WARN') });

const TASK_QUEUE = 'watch-out-test';
const scratch = mkdtempSync(join(tmpdir(), 'ippro-watch-out-'));
const modelDir = join(scratch, 'model');
const store = join(scratch, 'store');

let server: DevServer;
let orchestrator: OrchestratorHandle;
let client: Client;
/** The stack's Temporal, and with it the store its runs' artifacts are in (the commands that move artifacts take it). */
let temporal: string[];
let remote: string[];

/** The real executable, asynchronously: the orchestrator in this process must keep running meanwhile. */
const ippro = runCliAsync;

function files(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

/** Two rounds: the run continues as new once, so its input and memo are read across the chain. */
const PRUNE_FLAGS = [
  '--data', 'synthetic:cifar?n=32&seed=1&classes=10', '--eval-data', 'synthetic:cifar?n=32&seed=3&classes=10',
  '--target-channels', '0.3', '--rounds', '2', '--lambda', '1', '--finetune-steps', '1', '--batch-size', '8', '--eval-batch-size', '8',
  '--seed', '7', '--backend', 'cpu',
];
const PRUNE_FILES = ['model.json', 'report.html', 'report.json', 'summary.json', 'weights.bin'];
const COMPARE_FILES = ['compare.csv', 'compare.json', 'compare.md', 'report.html', 'report.json'];

/** A configuration apart from how its command was told to wait and where to write: what a detached and a waiting submission share. */
function submittedAlike(config: Record<string, unknown>): Record<string, unknown> {
  const shared = { ...config };
  for (const key of ['out', 'wait', 'run-id']) delete shared[key];
  return shared;
}

before(async () => {
  await initRuntime({ backend: 'cpu' });
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed: 1 });
  await saveLayersModelToDir(model, modelDir);
  model.dispose();
  server = await startDevServer({ dbFile: join(scratch, 'temporal.db') });
  orchestrator = await startOrchestrator({ address: server.address, namespace: server.namespace, taskQueue: TASK_QUEUE, artifacts: store });
  client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
  temporal = ['--temporal', server.address, '--namespace', server.namespace, '--task-queue', TASK_QUEUE];
  remote = [...temporal, '--store', store];
});

after(async () => {
  await client?.connection.close();
  await orchestrator?.shutdown();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('ippro watch --out', () => {
  const waitedOut = join(scratch, 'waited');

  it('writes what the submitting prune writes: a detached run its files, a finished run the same bytes; a taken directory is refused', async () => {
    const detached = await ippro(['prune', '--model', modelDir, ...PRUNE_FLAGS, ...remote, '--no-wait', '--run-id', 'detached']);
    assert.equal(detached.status, 0, detached.stderr);
    assert.equal(detached.stdout.trim(), 'detached');
    const watchedOut = join(scratch, 'watched');
    // The same settings, submitted to wait and write --out, beside the detached run that `watch` follows.
    const [waited, watched] = await Promise.all([
      ippro(['prune', '--model', modelDir, ...PRUNE_FLAGS, ...remote, '--out', waitedOut, '--run-id', 'waited']),
      ippro(['watch', 'detached', '--out', watchedOut, ...remote]),
    ]);
    assert.equal(waited.status, 0, waited.stderr);
    assert.equal(watched.status, 0, watched.stderr);
    assert.match(watched.stdout, /result: round 2/);
    assert.match(watched.stderr, new RegExp(`result written to ${watchedOut}`));
    assert.doesNotMatch(watched.stderr, /warning/);
    const [fromWait, fromWatch] = [files(waitedOut), files(watchedOut)];
    assert.deepEqual(Object.keys(fromWatch).sort(), PRUNE_FILES);
    assert.ok(fromWait['model.json']?.equals(fromWatch['model.json'] as Buffer), 'model.json differs');
    assert.ok(fromWait['weights.bin']?.equals(fromWatch['weights.bin'] as Buffer), 'weights.bin differs');
    const [waitSummary, watchSummary] = [splitRun(fromWait['summary.json']), splitRun(fromWatch['summary.json'])];
    assert.equal(watchSummary.result, waitSummary.result);
    assert.deepEqual(submittedAlike(watchSummary.config), submittedAlike(waitSummary.config));
    assert.deepEqual([watchSummary.config['wait'], watchSummary.config['run-id']], [false, 'detached'], "the detached submission's own configuration");
    assert.equal(splitRun(fromWatch['report.json']).result, splitRun(fromWait['report.json']).result, 'report.json differs');

    // A finished run: written at once, every file the bytes its submitting command wrote.
    const again = join(scratch, 'waited-again');
    const rewatched = await ippro(['watch', 'waited', '--out', again, ...remote]);
    assert.equal(rewatched.status, 0, rewatched.stderr);
    assert.deepEqual(files(again), fromWait);

    const taken = await ippro(['watch', 'detached', '--out', watchedOut, ...remote]);
    assert.equal(taken.status, 2, taken.stderr);
    assert.match(taken.stderr, new RegExp(`^ippro: --out ${watchedOut} is not empty`, 'm'));
  });

  it('writes a comparison as ippro compare does, byte for byte; compare --no-wait submits one to collect later', async () => {
    const compareFlags = ['--model', modelDir, '--data', 'synthetic:cifar?n=16&seed=1&classes=10', '--criteria', 'l1,l2', '--target-channels', '0.3',
      '--batch-size', '8', '--eval-batch-size', '8', '--backend', 'cpu', ...remote];
    const unwaited = await ippro(['compare', ...compareFlags]);
    assert.equal(unwaited.status, 2, unwaited.stderr);
    assert.match(unwaited.stderr, /^ippro: --out <dir> is required \(unless --no-wait\)/m);
    const detached = await ippro(['compare', ...compareFlags, '--no-wait', '--run-id', 'compared-detached']);
    assert.equal(detached.status, 0, detached.stderr);
    assert.equal(detached.stdout.trim(), 'compared-detached');
    const comparedOut = join(scratch, 'compared');
    const compared = await ippro(['compare', ...compareFlags, '--out', comparedOut, '--run-id', 'compared']);
    assert.equal(compared.status, 0, compared.stderr);
    const detachedOut = join(scratch, 'compared-detached');
    const collected = await ippro(['watch', 'compared-detached', '--out', detachedOut, ...remote]);
    assert.equal(collected.status, 0, collected.stderr);
    assert.equal(String(files(detachedOut)['compare.csv']), String(files(comparedOut)['compare.csv']), 'the detached comparison measured otherwise');
    const watchedOut = join(scratch, 'compared-watched');
    const watched = await ippro(['watch', 'compared', '--out', watchedOut, '--json', ...remote]);
    assert.equal(watched.status, 0, watched.stderr);
    assert.equal((JSON.parse(watched.stdout) as { out: string }).out, watchedOut);
    const [fromCompare, fromWatch] = [files(comparedOut), files(watchedOut)];
    assert.deepEqual(Object.keys(fromWatch).sort(), COMPARE_FILES);
    assert.deepEqual(fromWatch, fromCompare);
    assert.match(String(fromWatch['compare.md']), /- command: `ippro compare --model /);
  });

  it("writes a scheduled firing's prune run with its schedule's settings", async () => {
    const kept = join(scratch, 'kept');
    const created = await ippro(['schedule', 'create', 'nightly', '--every', '24h', '--model', modelDir, '--out', kept, '--accuracy-budget', '99', ...PRUNE_FLAGS, ...remote]);
    assert.equal(created.status, 0, created.stderr);
    const fired = await ippro(['schedule', 'trigger', 'nightly', ...temporal]);
    assert.equal(fired.status, 0, fired.stderr);
    const runId = fired.stdout.trim();
    const watchedOut = join(scratch, 'fired');
    const watched = await ippro(['watch', runId, '--out', watchedOut, '--json', ...remote]);
    assert.equal(watched.status, 0, watched.stderr);
    const firing = JSON.parse(watched.stdout) as ScheduledPruneResult;
    assert.equal(firing.kept, true, firing.reason);
    const fromWatch = files(watchedOut);
    assert.deepEqual(Object.keys(fromWatch).sort(), PRUNE_FILES);
    assert.deepEqual(files(firing.keptDir as string)['weights.bin'], fromWatch['weights.bin']);
    const summary = splitRun(fromWatch['summary.json']);
    assert.equal((JSON.parse(summary.result) as { modelArtifactId: string }).modelArtifactId, firing.modelArtifactId);
    assert.deepEqual([summary.config['every'], summary.config['accuracy-budget']], ['24h', 99]);
    assert.equal((await ippro(['schedule', 'delete', 'nightly', ...temporal])).status, 0);
  });

  it('a run started without a submission: its files without those fields, and one warning; a failed run: an error, nothing written', async () => {
    // Another client (as an older ippro did) starts the waited run's input without a memo.
    const input = await pruneRunInputOf(client, 'waited');
    await startPrune(client, input, { workflowId: 'no-memo', taskQueue: TASK_QUEUE });
    const bareOut = join(scratch, 'bare');
    const watched = await ippro(['watch', 'no-memo', '--out', bareOut, ...remote]);
    assert.equal(watched.status, 0, watched.stderr);
    const warnings = watched.stderr.split('\n').filter((line) => line.includes('warning'));
    assert.equal(warnings.length, 1, watched.stderr);
    assert.match(warnings[0] ?? '', /run no-memo carries no record of the command that submitted it .* without config and warnings of summary\.json, the report's model/);
    const [fromWait, bare] = [files(waitedOut), files(bareOut)];
    assert.ok(fromWait['weights.bin']?.equals(bare['weights.bin'] as Buffer), 'weights.bin differs');
    const summary = splitRun(bare['summary.json']);
    assert.equal(summary.config, undefined);
    const expected = JSON.parse(splitRun(fromWait['summary.json']).result) as Record<string, unknown>;
    delete expected['warnings'];
    assert.deepEqual(JSON.parse(summary.result), expected, 'the result, without config and warnings');

    // A run that fails (no rounds is bad input to the workflow): refused, naming the run and how it ended.
    await startPrune(client, { ...input, plan: { ...input.plan, rounds: 0 } }, { workflowId: 'broken', taskQueue: TASK_QUEUE });
    await client.workflow.getHandle('broken').result().catch(() => undefined);
    const brokenOut = join(scratch, 'broken');
    const refused = await ippro(['watch', 'broken', '--out', brokenOut, ...remote]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`run broken is failed: it has no result to write to --out ${brokenOut}`));
    assert.equal(existsSync(brokenOut), false);
  });
});
