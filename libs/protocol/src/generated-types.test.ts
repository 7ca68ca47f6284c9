import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { it } from 'node:test';
import { makeTempDir } from '@ippro/artifact-store/testing';

const libRoot = resolve(__dirname, '..');

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, base) : [relative(base, path)];
  });
}

it('the committed generated types match the .proto files (run `npx nx run protocol:generate-proto` if not)', () => {
  const { dir, cleanup } = makeTempDir('ippro-proto-gen-');
  try {
    const result = spawnSync(process.execPath, [join(libRoot, 'scripts', 'generate-proto.mjs'), '--out', dir], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const committed = join(libRoot, 'src', 'generated');
    const fresh = filesUnder(dir).sort();
    assert.deepEqual(filesUnder(committed).sort(), fresh, 'generated file list is stale');
    for (const file of fresh) {
      assert.equal(
        readFileSync(join(committed, file), 'utf8'),
        readFileSync(join(dir, file), 'utf8'),
        `src/generated/${file} is stale: regenerate with node libs/protocol/scripts/generate-proto.mjs`,
      );
    }
  } finally {
    cleanup();
  }
});
