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

/**
 * The layers, lowest first; a library imports only its own layer and those below it:
 * infra <- compute <- orchestration, with workflow-safe code (pure types and round logic) below
 * compute and workflow code beside it, reached only by orchestration.
 */
const scopeConstraints = [
  { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:infra'] },
  { sourceTag: 'scope:workflow-safe', onlyDependOnLibsWithTags: ['scope:workflow-safe'] },
  { sourceTag: 'scope:compute', onlyDependOnLibsWithTags: ['scope:infra', 'scope:workflow-safe', 'scope:compute'] },
  {
    sourceTag: 'scope:orchestration',
    onlyDependOnLibsWithTags: ['scope:infra', 'scope:workflow-safe', 'scope:compute', 'scope:workflow', 'scope:orchestration'],
  },
];

const kindConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  // Test suites drive the apps as processes; in code they use libraries only.
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
];

function moduleBoundaries(workflowConstraint) {
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow: [],
      depConstraints: [...kindConstraints, ...scopeConstraints, workflowConstraint],
    },
  ];
}

/** Test files and their helpers; everything else under libs/ and apps/ is production code. */
const testSources = ['**/*.test.ts', '**/src/testing/**/*.ts'];
/** Benchmarks measure with the test helpers (a loopback SeaweedFS, throughput runs); they ship nowhere. */
const benchSources = ['apps/bench/**/*.ts'];
/** Workflow code is replayed in a sandbox: no I/O, no clocks of its own, no native code. */
const workflowFiles = ['libs/workflows/**/*.ts', 'tools/lint-fixtures/workflow-like/**/*.ts'];
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

const distImports = {
  regex: '^@ippro/[^/]+/dist(/|$)',
  message: 'Import a project through its entry (@ippro/<lib>) or its test helpers through @ippro/<lib>/testing, never through dist/.',
};
const testHelperImports = [
  { regex: '^@ippro/[^/]+/testing$', message: 'Test helpers are for tests and benchmarks: production code must not import them.' },
  { regex: '^\\.{1,2}/(.*/)?testing(/|$)', message: 'Test helpers are for tests and benchmarks: production code must not import them.' },
];
const workflowImports = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message: 'Workflow code must not use Node built-ins; do I/O in an activity.',
  })),
  patterns: [
    { group: ['node:*'], message: 'Workflow code must not use Node built-ins.' },
    { group: ['@tensorflow/*'], message: 'Workflow code must not load TensorFlow.js.' },
  ],
};

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
      '@nx/enforce-module-boundaries': moduleBoundaries({
        sourceTag: 'scope:workflow',
        onlyDependOnLibsWithTags: ['scope:workflow-safe'],
        bannedExternalImports: workflowBannedImports,
      }),
      'no-restricted-imports': ['error', { patterns: [distImports, ...testHelperImports] }],
    },
  },
  {
    files: [...testSources, ...benchSources],
    rules: {
      'no-restricted-imports': ['error', { patterns: [distImports] }],
    },
  },
  {
    // Tests of workflow code run in Node, outside the sandbox: they start a Temporal server and
    // a Worker around the code under test.
    files: testSources,
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({
        sourceTag: 'scope:workflow',
        onlyDependOnLibsWithTags: ['scope:workflow-safe', 'scope:infra'],
      }),
    },
  },
  {
    files: workflowFiles,
    ignores: testSources,
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: workflowImports.paths, patterns: [distImports, ...testHelperImports, ...workflowImports.patterns] },
      ],
    },
  },
];
