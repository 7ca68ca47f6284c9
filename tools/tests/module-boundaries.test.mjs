// Proves that the workspace's dependency rules are enforced by lint, not only written down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: workspaceRoot });
const workflowFixture = 'tools/lint-fixtures/workflow-like/src';

async function lintMessages(filePath, code) {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

function assertReported(messages, ruleId, fragment) {
  const hit = messages.find((line) => line.startsWith(`${ruleId}:`) && line.includes(fragment));
  assert.ok(hit, `expected ${ruleId} to report "${fragment}", got ${JSON.stringify(messages)}`);
}

test('a library importing an app fails lint', async () => {
  const messages = await lintMessages(
    'libs/temporal-server/src/forbidden.ts',
    "import { main } from '@ippro/worker';\nexport const leak = main;\n",
  );
  assertReported(messages, '@nx/enforce-module-boundaries', 'Imports of apps are forbidden');
});

test('an app importing a library passes lint', async () => {
  const messages = await lintMessages(
    'apps/bench/src/allowed.ts',
    "import { initRuntime } from '@ippro/runtime';\nexport const init = initRuntime;\n",
  );
  assert.deepEqual(messages, []);
});

test('workflow code importing a compute library fails lint', async () => {
  const messages = await lintMessages(
    `${workflowFixture}/forbidden-lib.ts`,
    "import { initRuntime } from '@ippro/runtime';\nexport const init = initRuntime;\n",
  );
  assertReported(messages, '@nx/enforce-module-boundaries', 'scope:workflow-safe');
});

test('workflow code importing TensorFlow.js fails lint', async () => {
  const messages = await lintMessages(
    `${workflowFixture}/forbidden-tf.ts`,
    "import * as tf from '@tensorflow/tfjs-core';\nexport const ops = tf;\n",
  );
  assertReported(messages, '@nx/enforce-module-boundaries', '@tensorflow/tfjs-core');
});

for (const builtin of ['fs', 'node:fs', 'child_process', 'node:crypto']) {
  test(`workflow code importing the Node built-in '${builtin}' fails lint`, async () => {
    const messages = await lintMessages(
      `${workflowFixture}/forbidden-builtin.ts`,
      `import * as io from '${builtin}';\nexport const leak = io;\n`,
    );
    assertReported(messages, 'no-restricted-imports', 'Node built-ins');
  });
}

test('every library carries exactly one scope tag, and each scope has its rule', async () => {
  const config = await eslint.calculateConfigForFile('libs/settings/src/index.ts');
  const [, { depConstraints }] = config.rules['@nx/enforce-module-boundaries'];
  const constrained = new Set(depConstraints.map((constraint) => constraint.sourceTag));
  const libs = join(workspaceRoot, 'libs');
  for (const name of readdirSync(libs)) {
    const { tags } = JSON.parse(readFileSync(join(libs, name, 'project.json'), 'utf8'));
    const scopes = tags.filter((tag) => tag.startsWith('scope:'));
    assert.equal(scopes.length, 1, `libs/${name} has scope tags ${JSON.stringify(scopes)}`);
    assert.ok(constrained.has(scopes[0]), `libs/${name}: no dependency rule for ${scopes[0]}`);
  }
});

test('infrastructure importing a compute library fails lint', async () => {
  const messages = await lintMessages(
    'libs/artifact-store/src/forbidden.ts',
    "import { initRuntime } from '@ippro/runtime';\nexport const init = initRuntime;\n",
  );
  assertReported(messages, '@nx/enforce-module-boundaries', 'scope:infra');
});

test('a compute library importing an orchestration library fails lint', async () => {
  const messages = await lintMessages(
    'libs/training/src/forbidden.ts',
    "import { runPruneInProcess } from '@ippro/activities';\nexport const run = runPruneInProcess;\n",
  );
  assertReported(messages, '@nx/enforce-module-boundaries', 'scope:compute');
});

test('a compute library importing infrastructure passes lint', async () => {
  const messages = await lintMessages(
    'libs/compute-core/src/allowed.ts',
    "import { ArtifactStore } from '@ippro/artifact-store';\nexport const Store = ArtifactStore;\n",
  );
  assert.deepEqual(messages, []);
});

for (const [what, specifier] of [
  ["another library's test helpers", '@ippro/artifact-store/testing'],
  ['its own test helpers', './testing/worker-fixture'],
]) {
  test(`production code importing ${what} fails lint`, async () => {
    const messages = await lintMessages('libs/compute/src/forbidden.ts', `import * as helpers from '${specifier}';\nexport const leak = helpers;\n`);
    assertReported(messages, 'no-restricted-imports', 'production code must not import them');
  });
}

test('a test importing test helpers passes lint', async () => {
  const messages = await lintMessages(
    'libs/compute/src/allowed.test.ts',
    "import { makeTempDir } from '@ippro/artifact-store/testing';\nexport const temp = makeTempDir;\n",
  );
  assert.deepEqual(messages, []);
});

test("a test importing another project's dist/ files fails lint", async () => {
  const messages = await lintMessages(
    'libs/compute/src/forbidden.test.ts',
    "import { makeTempDir } from '@ippro/artifact-store/dist/testing/temp-dir';\nexport const temp = makeTempDir;\n",
  );
  assertReported(messages, 'no-restricted-imports', 'never through dist/');
});
