import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { refusedSchedulePath } from './schedule-paths';

const root = mkdtempSync(join(tmpdir(), 'ippro-schedule-paths-'));
const allowed = join(root, 'models');
const outside = join(root, 'elsewhere');
mkdirSync(join(allowed, 'resnet'), { recursive: true });
mkdirSync(outside);
symlinkSync(outside, join(allowed, 'escape'));

after(() => rmSync(root, { recursive: true, force: true }));

describe('paths of scheduled runs', () => {
  it('accepts any absolute path when the orchestrator does not restrict them, never a relative one', async () => {
    assert.equal(await refusedSchedulePath(outside, 'modelPath', undefined), undefined);
    assert.match((await refusedSchedulePath('models/resnet', 'modelPath', undefined)) ?? '', /modelPath models\/resnet is not an absolute path/);
  });

  it('keeps them inside the allowed directories, links resolved, new directories included', async () => {
    assert.equal(await refusedSchedulePath(join(allowed, 'resnet'), 'modelPath', [allowed]), undefined);
    assert.equal(await refusedSchedulePath(join(allowed, 'kept', 'new', 'dirs'), 'outDir', [allowed]), undefined);
    assert.match((await refusedSchedulePath(outside, 'outDir', [allowed])) ?? '', /outDir .* is outside the directories .*--schedule-dirs: .*models/);
    assert.match((await refusedSchedulePath(join(allowed, 'escape', 'x'), 'outDir', [allowed])) ?? '', /is outside/, 'a link out of the directory');
    assert.match((await refusedSchedulePath(join(allowed, '..', 'elsewhere'), 'outDir', [allowed])) ?? '', /is outside/);
    assert.match((await refusedSchedulePath(`${allowed}-sibling`, 'outDir', [allowed])) ?? '', /is outside/, 'a name sharing the prefix');
    assert.match((await refusedSchedulePath(join(allowed, 'resnet'), 'modelPath', [])) ?? '', /none are allowed/);
  });
});
