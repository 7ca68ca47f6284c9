import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { artifactKeyOf } from '@ippro/artifact-store';
import { saveLayersModelToDir } from '@ippro/graph';
import { modelArtifactFromDir } from '@ippro/model-artifact';
import { buildSmallCnn } from '@ippro/models';
import { LATEST_LINK, startOrchestrator } from '@ippro/orchestration';
import type { OrchestratorHandle, PruneScheduleSummary, ScheduledPruneResult } from '@ippro/orchestration';
import { initRuntime } from '@ippro/runtime';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { scheduleCommand } from './commands/schedule';
import { runCliAsync } from './testing/run-cli';
import type { CliResult } from './testing/run-cli';

/**
 * `ippro schedule` against a real Temporal dev server and an orchestrator (in this process,
 * computing in-process): create, trigger, the run's kept result, list, delete, bad input.
 */
Runtime.install({ logger: new DefaultLogger('WARN') });

const TASK_QUEUE = 'schedule-test';
const scratch = mkdtempSync(join(tmpdir(), 'ippro-schedule-'));
const modelDir = join(scratch, 'model');
const outDir = join(scratch, 'kept');

let server: DevServer;
let orchestrator: OrchestratorHandle;
let remote: string[];

/** The real executable, asynchronously: the orchestrator in this process must keep running meanwhile. */
const ippro = runCliAsync;

/** Runs CLI calls two at a time: more at once on two cores can starve a call past its 5 s connect timeout. */
async function twoAtATime(calls: readonly (readonly string[])[]): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (let index = 0; index < calls.length; index += 2) results.push(...(await Promise.all(calls.slice(index, index + 2).map((args) => ippro(args)))));
  return results;
}

async function saveModel(seed: number): Promise<void> {
  rmSync(modelDir, { recursive: true, force: true });
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed });
  await saveLayersModelToDir(model, modelDir);
  model.dispose();
}

const RUN_FLAGS = [
  '--data', 'synthetic:cifar?n=32&seed=1&classes=10', '--eval-data', 'synthetic:cifar?n=32&seed=3&classes=10',
  '--target-channels', '0.3', '--rounds', '1', '--lambda', '1', '--finetune-steps', '1', '--batch-size', '8', '--eval-batch-size', '8',
  '--backend', 'cpu',
];

before(async () => {
  await initRuntime({ backend: 'cpu' });
  await saveModel(1);
  server = await startDevServer({ dbFile: join(scratch, 'temporal.db') });
  orchestrator = await startOrchestrator({ address: server.address, namespace: server.namespace, taskQueue: TASK_QUEUE, artifacts: join(scratch, 'artifacts') });
  remote = ['--temporal', server.address, '--namespace', server.namespace, '--task-queue', TASK_QUEUE];
});

after(async () => {
  await orchestrator?.shutdown();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('ippro schedule', () => {
  it('documents every subcommand', async () => {
    const [group, create] = await Promise.all([ippro(['schedule', '--help']), ippro(['schedule', 'create', '--help'])]);
    assert.equal(group.status, 0, group.stderr);
    assert.equal(create.status, 0, create.stderr);
    for (const name of ['create', 'list', 'trigger', 'delete']) assert.match(group.stdout, new RegExp(`\\b${name}\\b`));
    for (const flag of ['--cron', '--every', '--timezone', '--accuracy-budget', '--out', '--model', '--target-flops', '--finetune-steps', '--temporal', '--tls-ca', '--api-key']) {
      assert.match(create.stdout, new RegExp(`${flag}\\b`), flag);
    }
    assert.doesNotMatch(create.stdout, /^\s+(--local|--run-id|--no-wait)\b/m, 'prune flags that make no sense for a schedule');
    for (const sub of scheduleCommand().commands) assert.notEqual(sub.helpInformation().length, 0, sub.name());
  });

  it('creates a schedule, fires it on the model found at fire time, keeps the result, lists it and deletes it', async () => {
    const created = await ippro(['schedule', 'create', 'nightly', '--every', '24h', '--model', modelDir, '--out', outDir, '--accuracy-budget', '99', ...RUN_FLAGS, ...remote]);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /schedule nightly created: every 24h, next run \d{4}-/);

    // The model changes after the schedule was made: the firing prunes the new one.
    await saveModel(2);
    const expectedInput = artifactKeyOf(await modelArtifactFromDir(modelDir));
    const fired = await ippro(['schedule', 'trigger', 'nightly', '--wait', '--json', ...remote]);
    assert.equal(fired.status, 0, fired.stderr);
    const { runId, result } = JSON.parse(fired.stdout) as { runId: string; result: ScheduledPruneResult };
    assert.match(runId, /^scheduled-nightly-/);
    assert.equal(result.inputModelArtifactId, expectedInput);
    assert.equal(result.resultRound, 1);
    assert.ok(result.flopsKept < 1, `FLOPs kept ${result.flopsKept}`);
    assert.ok(result.baselineTop1 - result.resultTop1 <= 0.99);
    assert.equal(result.kept, true, result.reason);

    // The kept model: in its own directory, pointed at by `latest`, the same bytes as the run's result.
    assert.equal(result.keptDir, join(outDir, runId.replace(/:/g, '-')));
    assert.equal(readlinkSync(join(outDir, LATEST_LINK)), runId.replace(/:/g, '-'));
    assert.ok(existsSync(join(result.keptDir as string, 'summary.json')));
    assert.equal(artifactKeyOf(await modelArtifactFromDir(result.keptDir as string)), result.modelArtifactId);
    const [status, listed, table, again, firing, runs, pause] = (await twoAtATime([
      ['status', result.pruneRunId, '--json', ...remote],
      ['schedule', 'list', '--json', ...remote],
      ['schedule', 'list', ...remote],
      ['schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--model', modelDir, '--out', outDir, '--accuracy-budget', '1', ...RUN_FLAGS, ...remote],
      ['status', runId, '--json', '--ui-url', 'http://ui.example:8233/', ...remote],
      ['runs', '--json', ...remote],
      ['pause', runId, ...remote],
    ])) as [CliResult, CliResult, CliResult, CliResult, CliResult, CliResult, CliResult];
    assert.equal(status.status, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { status: string }).status, 'COMPLETED');

    // The firing itself: a scheduled run, shown with its prune run and what it kept, and its page in the cluster's UI.
    assert.equal(firing.status, 0, firing.stderr);
    const shown = JSON.parse(firing.stdout) as { kind: string; status: string; pruneRunId: string; result: ScheduledPruneResult; ui: string; progress: { phase: string } };
    assert.deepEqual([shown.kind, shown.status, shown.pruneRunId, shown.progress.phase], ['scheduled', 'COMPLETED', result.pruneRunId, 'done']);
    assert.deepEqual(shown.result, result);
    assert.equal(shown.ui, `http://ui.example:8233/namespaces/${server.namespace}/workflows/${encodeURIComponent(runId)}`);
    const rows = JSON.parse(runs.stdout) as { runId: string; kind: string; phase: string }[];
    const row = rows.find((candidate) => candidate.runId === runId);
    assert.deepEqual([row?.kind, row?.phase], ['scheduled', 'done']);
    assert.equal(rows.find((row) => row.runId === result.pruneRunId), undefined, 'its prune run is its row, not one of its own');
    assert.equal(pause.status, 2);
    assert.match(pause.stderr, /is not running \(COMPLETED\)/);

    assert.equal(listed.status, 0, listed.stderr);
    const nightly = (JSON.parse(listed.stdout) as PruneScheduleSummary[]).find((schedule) => schedule.scheduleId === 'nightly');
    assert.ok(nightly, listed.stdout);
    assert.equal(nightly.timing, 'every 24h');
    assert.equal(nightly.modelPath, modelDir);
    assert.equal(nightly.accuracyBudget, 0.99);
    assert.ok(nightly.nextActionTimes.length > 0);
    assert.equal(nightly.lastRun?.workflowId, runId);
    assert.deepEqual(nightly.lastRun?.result, result);
    assert.match(table.stdout, /nightly\s+every 24h\s+\d{4}-\S+\s+\d{4}-\S+\s+kept: top-1/);

    assert.equal(again.status, 2);
    assert.match(again.stderr, /a schedule 'nightly' already exists/);

    const deleted = await ippro(['schedule', 'delete', 'nightly', ...remote]);
    assert.equal(deleted.status, 0, deleted.stderr);
    const afterDelete = JSON.parse((await ippro(['schedule', 'list', '--json', ...remote])).stdout) as PruneScheduleSummary[];
    assert.equal(afterDelete.find((schedule) => schedule.scheduleId === 'nightly'), undefined);
    const gone = await ippro(['schedule', 'delete', 'nightly', ...remote]);
    assert.equal(gone.status, 2);
    assert.match(gone.stderr, /no schedule 'nightly'/);
  });

  it('pauses and resumes a scheduled run through its prune run', async () => {
    const created = await ippro(['schedule', 'create', 'long', '--every', '24h', '--model', modelDir, '--out', join(scratch, 'long-out'), '--accuracy-budget', '99',
      ...RUN_FLAGS, '--rounds', '3', '--target-channels', '0.5', ...remote]);
    assert.equal(created.status, 0, created.stderr);
    const fired = await ippro(['schedule', 'trigger', 'long', ...remote]);
    assert.equal(fired.status, 0, fired.stderr);
    const runId = fired.stdout.trim();
    type Shown = { status: string; progress: { phase: string; round: number; history: unknown[] } | null };
    const poll = async (until: (shown: Shown) => boolean): Promise<Shown> => {
      for (let polls = 0; ; polls += 1) {
        const shown = JSON.parse((await ippro(['status', runId, '--json', ...remote])).stdout) as Shown;
        if (until(shown) || polls > 100) return shown;
      }
    };
    await poll((shown) => (shown.progress?.round ?? 0) >= 1);
    const paused = await ippro(['pause', runId, '--json', ...remote]);
    assert.equal(paused.status, 0, paused.stderr);
    assert.deepEqual(JSON.parse(paused.stdout), { runId, kind: 'scheduled', action: 'pause', sentTo: `${runId}/prune` });
    const waiting = await poll((shown) => shown.progress?.phase === 'paused');
    assert.equal(waiting.progress?.phase, 'paused');
    assert.ok((waiting.progress?.history.length ?? 3) < 3, 'paused before its last round');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await poll(() => true)).progress?.phase, 'paused', 'stays paused');
    const resumed = await ippro(['resume', runId, ...remote]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const watched = await ippro(['watch', runId, '--json', ...remote]);
    assert.equal(watched.status, 0, watched.stderr);
    const outcome = JSON.parse(watched.stdout) as ScheduledPruneResult & { kind: string };
    assert.equal(outcome.kind, 'scheduled');
    assert.ok(outcome.resultRound > (waiting.progress?.history.length ?? 0), 'resumed, it pruned on');
    assert.equal((await ippro(['schedule', 'delete', 'long', ...remote])).status, 0);
  });

  it('does not keep a run that removed nothing; a run that fails exits 1 and the list says why', async () => {
    const stuckModel = join(scratch, 'stuck-model');
    cpSync(modelDir, stuckModel, { recursive: true });
    const created = await ippro(['schedule', 'create', 'stuck', '--cron', '0 3 * * 1', '--timezone', 'Europe/Berlin', '--model', stuckModel, '--out', join(scratch, 'stuck-out'),
      '--accuracy-budget', '5', ...RUN_FLAGS, '--min-channels', '1000', ...remote]);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /cron "0 3 \* \* 1" \(Europe\/Berlin\)/);
    const fired = await ippro(['schedule', 'trigger', 'stuck', '--wait', ...remote]);
    assert.equal(fired.status, 0, fired.stderr);
    assert.match(fired.stdout, /not kept: nothing removed/);
    assert.equal(existsSync(join(scratch, 'stuck-out')), false, 'nothing written');

    rmSync(stuckModel, { recursive: true });
    const failed = await ippro(['schedule', 'trigger', 'stuck', '--wait', ...remote]);
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /scheduled run scheduled-stuck-\S+ failed: model directory .*stuck-model does not exist/);
    const listed = JSON.parse((await ippro(['schedule', 'list', '--json', ...remote])).stdout) as PruneScheduleSummary[];
    const stuck = listed.find((schedule) => schedule.scheduleId === 'stuck');
    assert.equal(stuck?.lastRun?.status, 'FAILED');
    assert.match(stuck?.lastRun?.failure ?? '', /does not exist/);
    assert.equal(stuck?.actionsTaken, 2);
    assert.equal((await ippro(['schedule', 'delete', 'stuck', ...remote])).status, 0);
  });

  it('refuses bad input with exit code 2 and creates nothing', async () => {
    const base = ['--model', modelDir, '--out', outDir, '--accuracy-budget', '1', ...RUN_FLAGS, ...remote];
    const cases: [string[], RegExp][] = [
      [['schedule', 'create', 'both', '--cron', '0 2 * * *', '--every', '24h', ...base], /exactly one of --cron EXPRESSION and --every DURATION/],
      [['schedule', 'create', 'range', '--cron', '0 25 * * *', ...base], /--cron\/--timezone: Temporal refused the schedule: Hour is not in range/],
      [['schedule', 'create', 'budget', '--every', '1h', ...base, '--accuracy-budget', '150'], /--accuracy-budget must be percentage points in \[0, 100\)/],
      [['schedule', 'create', 'nomodel', '--every', '1h', ...base, '--model', join(scratch, 'missing')], /model .*missing/],
      [['schedule', 'trigger', 'nothing-here', ...remote], /no schedule 'nothing-here'/],
    ];
    const results = await twoAtATime(cases.map(([args]) => args));
    results.forEach((result, index) => {
      const [args, pattern] = cases[index] as [string[], RegExp];
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
    });
    const listed = JSON.parse((await ippro(['schedule', 'list', '--json', ...remote])).stdout) as PruneScheduleSummary[];
    assert.deepEqual(listed.map((schedule) => schedule.scheduleId), []);
  });
});
