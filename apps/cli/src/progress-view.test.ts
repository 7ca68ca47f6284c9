import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveProgress } from '@ippro/workflow-core';
import { ProgressView, pruneProgressLines } from './progress-view';

function stream(isTTY: boolean, written: string[]): NodeJS.WriteStream {
  return { isTTY, columns: 200, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
}

const live: LiveProgress = {
  phase: 'fine-tuning',
  round: 2,
  rounds: 3,
  paused: true,
  cancelRequested: false,
  work: { phase: 'fine-tuning', unit: 'steps', done: 320, total: 800, images: 43_520, elapsedSeconds: 51, imagesPerSecond: 412.4, etaSeconds: 65 },
  run: { elapsedSeconds: 192, etaSeconds: 580 },
  running: [
    { activity: 'fineTuneReplica', phase: 'fine-tuning', worker: '127.0.0.1:41219', counts: 'steps', done: 57, total: 100, images: 7296, imagesPerSecond: 205.3 },
    { activity: 'fineTuneReplica', phase: 'fine-tuning', counts: 'steps', done: 0, total: 0, images: 0 },
  ],
};

describe('pruneProgressLines', () => {
  it('says where the run is, how fast, and how long to go; a line per running activity when verbose', () => {
    const [line, ...tasks] = pruneProgressLines(live, true);
    assert.equal(line, 'round 2/3 fine-tuning (pause requested)  [########............] 320/800 steps (40%)  412 img/s  phase 0:51, ETA 1:05  run 3:12, ETA 9:40');
    assert.deepEqual(tasks, ['  127.0.0.1:41219  fine-tuning  57/100 steps  7296 images  205 img/s', '  fine-tuning: waiting for a free worker']);
    assert.equal(pruneProgressLines(live, false).length, 1);
  });

  it('shows a bookkeeping phase and an unknown estimate plainly', () => {
    const [line] = pruneProgressLines({ ...live, phase: 'merging', paused: false, work: undefined, run: { elapsedSeconds: 3725 }, running: [] } as LiveProgress, false);
    assert.equal(line, 'round 2/3 merging  run 1:02:05, ETA -');
  });
});

describe('ProgressView', () => {
  it('in a log: a line at most every interval, however often it is shown', () => {
    const written: string[] = [];
    let now = 0;
    const view = new ProgressView({ intervalSeconds: 10, verbose: false }, stream(false, written), () => now);
    for (now = 0; now <= 25_000; now += 500) view.show([`at ${now / 1000}`]);
    view.say('round 1: done');
    view.done();
    assert.deepEqual(written, ['at 0\n', 'at 10\n', 'at 20\n', 'round 1: done\n']);
  });

  it('on a terminal: redraws its lines in place and keeps said lines above them', () => {
    const written: string[] = [];
    const view = new ProgressView({ intervalSeconds: 10, verbose: true }, stream(true, written));
    view.show(['one', '  a']);
    view.show(['two', '  b']);
    view.say('round 1: done');
    view.done();
    const clearTwo = '\r\x1b[2K\x1b[1A\x1b[2K';
    assert.deepEqual(written, ['one\n  a', clearTwo, 'two\n  b', clearTwo, 'round 1: done\n', 'two\n  b', '\n']);
  });
});
