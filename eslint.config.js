// typescript-eslint's type-checked recommended rules over every TypeScript file of the repository
// (sources, tests, interop, examples, benches), with one program (tsconfig.lint.json). Formatting
// is prettier's (`npm run format`), so eslint-config-prettier turns off the rules it owns.
// Each rule turned off or down below carries its reason.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'packages/*/dist/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed parameters and variables are the usual "deliberately unused".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Every class of an Erlang term prints itself in Erlang syntax (packages/term/src/model); the
      // rule cannot see that through the recursive `Term[]` member of the `Term` union.
      '@typescript-eslint/no-base-to-string': ['error', { ignoredTypeNames: ['Error', 'RegExp', 'URL', 'URLSearchParams', 'Term'] }],
    },
  },
);
