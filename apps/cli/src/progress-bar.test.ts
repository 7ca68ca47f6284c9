import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressBar } from './progress-bar';

function logStream(lines: string[]): NodeJS.WriteStream {
  return { isTTY: false, write: (text: string) => lines.push(text.trimEnd()) } as unknown as NodeJS.WriteStream;
}

describe('ProgressBar in a log (not a terminal)', () => {
  it('prints quarter steps of each phase, also after an empty phase', () => {
    const lines: string[] = [];
    const bar = new ProgressBar('pruning', logStream(lines));
    bar.update(0, 0, 'baseline evaluating');
    for (let done = 0; done <= 4; done += 1) bar.update(done, 4, 'round 1/3 scoring');
    bar.update(0, 2, 'round 1/3 fine-tuning');
    assert.deepEqual(lines, [
      'pruning [########################] 0/0 baseline evaluating',
      'pruning [........................] 0/4 round 1/3 scoring',
      'pruning [######..................] 1/4 round 1/3 scoring',
      'pruning [############............] 2/4 round 1/3 scoring',
      'pruning [##################......] 3/4 round 1/3 scoring',
      'pruning [########################] 4/4 round 1/3 scoring',
      'pruning [........................] 0/2 round 1/3 fine-tuning',
    ]);
  });

  it('prints nothing twice', () => {
    const lines: string[] = [];
    const bar = new ProgressBar('comparing', logStream(lines));
    for (let i = 0; i < 3; i += 1) bar.update(10, 10, 'done');
    assert.equal(lines.length, 1);
  });
});
