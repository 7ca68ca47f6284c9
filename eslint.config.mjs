import { builtinModules } from 'node:module';
import nx from '@nx/eslint-plugin';

/** Node built-ins and compute packages that must never reach Temporal workflow code. */
const workflowBannedImports = [
  '@tensorflow/*',
  '@grpc/*',
  'protobufjs',
  'fs',
  'fs/promises',
  'path',
  'os',
  'child_process',
  'net',
  'http',
  'https',
  'crypto',
  'worker_threads',
  'node:*',
];

/** Workflow code is replayed in a sandbox: no I/O, no clocks of its own, no native code. */
const workflowFiles = ['libs/workflows/**/*.ts', 'tools/lint-fixtures/workflow-like/**/*.ts'];
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/.nx', 'tmp/**', 'bench-results/**'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            // Test suites drive the apps as processes; in code they use libraries only.
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
            {
              sourceTag: 'scope:workflow',
              onlyDependOnLibsWithTags: ['scope:workflow-safe'],
              bannedExternalImports: workflowBannedImports,
            },
          ],
        },
      ],
    },
  },
  {
    files: workflowFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must not use Node built-ins; do I/O in an activity.',
          })),
          patterns: [
            { group: ['node:*'], message: 'Workflow code must not use Node built-ins.' },
            { group: ['@tensorflow/*'], message: 'Workflow code must not load TensorFlow.js.' },
          ],
        },
      ],
    },
  },
];
