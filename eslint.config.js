// typescript-eslint's recommended rules over the sources, the tests and the scripts. Without type
// information: the type-checked set needs a second TypeScript program and took 5-8 minutes on the
// shared 2-core machine (tsc already type-checks everything in npm test). Formatting is Prettier's
// (`npm run format:check` in npm test); line length is checked here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = {
  process: 'readonly',
  Buffer: 'readonly',
  console: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The plain-JS helpers (bin/virtables, the netns agents) run on node: its globals.
  { files: ['**/*.js', '**/*.mjs', 'bin/virtables'], languageOptions: { globals: node } },
  // bin/virtables is CommonJS (bin/package.json says so): see its header.
  {
    files: ['bin/virtables'],
    languageOptions: { sourceType: 'commonjs', globals: { ...node, require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      // Control characters are matched on purpose: that is how junk input is found and named.
      'no-control-regex': 'off',
      // `_name` marks a binding kept for its place (a destructured variable taken out of a rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Lines of at most 120 columns (Prettier's printWidth). Prettier wraps the code; a string, a
      // template or a regex it cannot break is let through, so a message is never split to fit.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
      // chevrotain's package entry loads a few hundred lodash-es modules (~0.4 s of start-up); its values
      // come from grammar/chevrotain.ts, which loads the single-file bundle. Types may name the package.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'chevrotain',
              message:
                "import chevrotain's values from grammar/chevrotain.ts (the package entry costs ~0.4 s of start-up)",
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
