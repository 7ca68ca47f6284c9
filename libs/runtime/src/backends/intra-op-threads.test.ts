import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** In a fresh process (the module reads its start environment once): fixes the count, then reports both. */
function threadsIn(env: NodeJS.ProcessEnv): { given: number | null; fixed: number; variable: string } {
  const loaders = join(__dirname, 'backend-loaders.js');
  const script = `
    const { fixIntraOpThreads, intraOpThreadsGiven } = require(${JSON.stringify(loaders)});
    const fixed = fixIntraOpThreads(process.env);
    console.log(JSON.stringify({ given: intraOpThreadsGiven() ?? null, fixed, variable: process.env.TF_NUM_INTRAOP_THREADS }));`;
  const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { given: number | null; fixed: number; variable: string };
}

test('a process fixes its own thread count without passing it on as if the user had given it', () => {
  const without = { ...process.env };
  delete without['TF_NUM_INTRAOP_THREADS'];
  // ippro dev loads the native backend itself, then shares the cores out among its workers.
  assert.deepEqual(threadsIn(without), { given: null, fixed: availableParallelism(), variable: String(availableParallelism()) });
  assert.deepEqual(threadsIn({ ...without, TF_NUM_INTRAOP_THREADS: '3' }), { given: 3, fixed: 3, variable: '3' });
  assert.deepEqual(threadsIn({ ...without, TF_NUM_INTRAOP_THREADS: 'many' }), { given: null, fixed: availableParallelism(), variable: String(availableParallelism()) });
});
