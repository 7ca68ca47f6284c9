// Proves that the workspace's dependency rules are enforced by lint, not only written down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
