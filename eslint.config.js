import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Workflow code is replayed from history, so it must be deterministic: no I/O, no Node APIs,
// no clock or randomness except through @temporalio/workflow (which the sandbox makes replay-safe).
const workflowMessage = 'Workflow code must be deterministic and free of I/O';
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));
const workflowRestrictedImports = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message: `${workflowMessage}: no Node built-ins (${name}); do it in an activity.`,
    allowTypeImports: true,
  })),
  patterns: [
    { group: ['node:*'], message: `${workflowMessage}: no Node built-ins; do it in an activity.`, allowTypeImports: true },
    {
      group: ['@prisma/*', 'pg', 'pg/*', 'ollama', 'ollama/*', 'openai', 'openai/*', 'socket.io', 'socket.io-*', '@socket.io/*', 'redis'],
      message: `${workflowMessage}: database, LLM and socket clients belong in activities.`,
      allowTypeImports: true,
    },
    {
      group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
      message: `${workflowMessage}: only @temporalio/workflow and @temporalio/common run inside a workflow.`,
      allowTypeImports: true,
    },
    {
      group: ['**/server', '**/server/**', '**/activities', '**/activities/**'],
      message: `${workflowMessage}: import server and activity modules with \`import type\` only (proxyActivities<typeof activities>).`,
      allowTypeImports: true,
    },
  ],
};

const timerHint = 'use sleep() / condition() from @temporalio/workflow';
const workflowRestrictedGlobals = [
  ...['fetch', 'XMLHttpRequest', 'WebSocket'].map((name) => ({ name, message: `${workflowMessage}: no network; call an activity.` })),
  ...['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'setImmediate', 'clearImmediate'].map((name) => ({
    name,
    message: `${workflowMessage}: ${timerHint}.`,
  })),
  ...['process', 'Buffer', 'require', '__dirname', '__filename'].map((name) => ({
    name,
    message: `${workflowMessage}: no Node globals in workflows.`,
  })),
];

export default tseslint.config(
  {
    ignores: [
      'build/',
      'dist/',
      '.tools/',
      '.data/',
      '.cache/',
      'server/generated/',
      '**/node_modules/',
      'test-results/',
      'playwright-report/',
      'e2e/artifacts/',
      'public/build/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['app/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: ['e2e/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: ['workflows/**/*.{ts,tsx,js}', 'tests/support/workflows/**/*.ts'],
    // Tests of workflows run in Node and drive them from outside (TestWorkflowEnvironment).
    ignores: ['workflows/**/*.test.ts'],
    languageOptions: { globals: { ...globals['shared-node-browser'] } },
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', workflowRestrictedImports],
      'no-restricted-globals': ['error', ...workflowRestrictedGlobals],
      // Date.now() and new Date() are allowed: the workflow sandbox pins them to the time of the
      // current workflow task, which replays identically.
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: `${workflowMessage}: use uuid4() or a seeded value from workflow input.` },
      ],
    },
  },
);
