import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '@tensorflow/tfjs-backend-cpu';
import { KerasBadInput } from './errors';
import { exportKerasModel } from './export-keras';
import { importKerasModel } from './import-keras';
import { KerasConverter } from './keras-converter';
import { kerasEnvironmentForTests, runKerasFixtures } from './testing/keras-fixtures';
import type { RefusedKerasFile } from './testing/keras-fixtures';

const keras = kerasEnvironmentForTests();

test('what the converter cannot carry over is refused in one line naming it, and nothing is written', { skip: keras.skip, timeout: 600_000 }, async (t) => {
  if (keras.skip !== false) return;
  const work = mkdtempSync(join(tmpdir(), 'ippro-keras-refused-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  runKerasFixtures(keras.environment, ['refused', work]);
  const cases = JSON.parse(readFileSync(join(work, 'refused.json'), 'utf8')) as RefusedKerasFile[];
  assert.ok(cases.length >= 8, 'every kind of refusal has a case');
  const converter = await KerasConverter.start();
  try {
    for (const refused of cases) {
      const out = join(work, 'imported');
      await assert.rejects(importKerasModel(converter, refused.file, out), (error: unknown) => {
        assert.ok(error instanceof KerasBadInput, `${refused.file}: ${String(error)}`);
        assert.ok(error.message.includes(refused.message), `${refused.file}: '${error.message}' should say '${refused.message}'`);
        assert.ok(!error.message.includes('\n'), 'one line');
        return true;
      });
      assert.equal(existsSync(out), false, `${refused.file}: nothing is written`);
    }
    const notKeras = join(work, 'weights.bin');
    writeFileSync(notKeras, 'not a model');
    await assert.rejects(importKerasModel(converter, notKeras, join(work, 'x')), /is neither a \.keras nor an \.h5 file/);
    await assert.rejects(importKerasModel(converter, join(work, 'absent.keras'), join(work, 'x')), /absent\.keras does not exist/);
    const taken = join(work, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'file'), '');
    await assert.rejects(importKerasModel(converter, notKeras, taken), /--out .*taken is not empty/);

    await assert.rejects(exportKerasModel(converter, join(work, 'no-model'), join(work, 'out.keras'), 'keras'), (error: unknown) => error instanceof KerasBadInput && /model .*no-model/.test(error.message));
    await assert.rejects(exportKerasModel(converter, work, join(work, 'out.h5'), 'keras'), /a keras file must end in \.keras/);
    await assert.rejects(exportKerasModel(converter, work, join(work, 'missing-dir', 'out.keras'), 'keras'), /the directory .*missing-dir does not exist/);
  } finally {
    await converter.close();
  }
});
