import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const globals = { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', __ENV: 'readonly' };

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'coverage/', '.tmp/', 'dist/', 'realtime/dashboard/build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  // The server's own code is checked with type information: a floating promise, a promise where
  // a callback is expected, or an untyped (any) value flowing into typed code — e.g. a raw SQL row
  // turning a NUMERIC into a Number — is an error.
  {
    files: ['server/**/*.ts', 'realtime/**/*.ts', 'admin/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers only point down, and no import circle: shared/ imports no feature, realtime/ never
  // imports the app, nothing below the composition root imports it.
  {
    files: ['server/**/*.ts', 'realtime/**/*.ts', 'admin/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './server/shared', from: './server', except: ['./shared'], message: 'server/shared/ is the bottom layer: it imports no feature.' },
            { target: './realtime', from: ['./server/app.ts', './server/runtime.ts', './server/main.ts'], message: 'realtime/ sits below the composition root: it receives RealtimeComponents.' },
            { target: './server/!(app.ts|runtime.ts|main.ts|cli)/**', from: ['./server/app.ts', './server/runtime.ts', './server/main.ts'], message: 'Features sit below the composition root (server/app.ts).' },
          ],
        },
      ],
    },
  },
);
