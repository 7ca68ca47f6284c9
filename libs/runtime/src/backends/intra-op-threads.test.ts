import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** In a fresh process (the module reads its start environment once): fixes the count, then reports both. */
function threadsIn(env: NodeJS.ProcessEnv): Threads {
  const loaders = join(__dirname, 'backend-loaders.js');
  const script = `
    const { fixIntraOpThreads, intraOpThreadsGiven, intraOpThreadsPerProcess } = require(${JSON.stringify(loaders)});
    const fixed = fixIntraOpThreads(process.env);
    const perProcess = [2, 3].map((processes) => intraOpThreadsPerProcess(processes, 8));
    console.log(JSON.stringify({ given: intraOpThreadsGiven() ?? null, fixed, variable: process.env.TF_NUM_INTRAOP_THREADS, perProcess }));`;
  const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as Threads;
}

/** What the user gave, what the process fixed for itself, and what 2 and 3 processes it starts on 8 cores each get. */
interface Threads {
  given: number | null;
  fixed: number;
  variable: string;
  perProcess: number[];
}

test('a process fixes its own thread count without passing it on as if the user had given it', () => {
  const without = { ...process.env };
  delete without['TF_NUM_INTRAOP_THREADS'];
  // ippro dev and ippro train load the native backend themselves, then share the cores out among
  // the processes they start (workers, training children).
  const cores = String(availableParallelism());
  assert.deepEqual(threadsIn(without), { given: null, fixed: availableParallelism(), variable: cores, perProcess: [4, 2] });
  assert.deepEqual(threadsIn({ ...without, TF_NUM_INTRAOP_THREADS: '3' }), { given: 3, fixed: 3, variable: '3', perProcess: [3, 3] });
  assert.deepEqual(threadsIn({ ...without, TF_NUM_INTRAOP_THREADS: 'many' }), { given: null, fixed: availableParallelism(), variable: cores, perProcess: [4, 2] });
});
