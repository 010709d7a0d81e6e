// The CLI as one script, and V8's code cache for it: `virtables audit` runs in pre-commit hooks,
// where start-up is most of its time. Loading dist/src/cli/main.js as ES modules resolves, opens,
// stats and compiles about 140 files for a small audit, and Node 20 keeps no compile cache for
// ES modules. bin/virtables runs dist/virtables.cjs instead through `vm.Script` with the cache
// written here, so what a run needs is neither looked up nor parsed again. The ES modules stay
// the build's output (tests import them, and bin/virtables falls back to them when the bundle is
// missing or older than they are); this bundle is made from them and holds the same code.
//
// Run by `npm run build` (and `npm ci`, through `prepare`) after tsc.

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { rolldown } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'virtables.cjs');

// Built-in modules the bundle's top level would otherwise require when it starts, though few runs
// call them: a command that starts a process (live mode, diagram --format svg), a read long enough
// to check the heap (node:v8, ~3 ms to load), live mode's host name. Their imports are bound to
// functions that load the module when first called. A name not listed here fails the build.
const LAZY_BUILTINS = {
  'node:child_process': ['spawn', 'spawnSync'],
  'node:v8': ['getHeapStatistics'],
  'node:os': ['hostname'],
  // Loads net and the stream modules: asked only of a descriptor that is a character device (src/cli/io.ts).
  'node:tty': ['isatty'],
};
const LAZY_PREFIX = '\0virtables-lazy:';

// Packages loaded by a dynamic import only (live mode's zx), left out of the bundle and imported
// from node_modules as they are: bin/virtables passes the script an `importExternal` for them.
const EXTERNAL = ['zx'];

// grammar/chevrotain.ts finds chevrotain's single-file bundle at run time (it is not in the
// package's exports) and awaits its import; here it is a plain re-export of that file.
const chevrotainBundle = join(
  dirname(createRequire(import.meta.url).resolve('chevrotain')),
  '..',
  'chevrotain.min.mjs',
);
const CHEVROTAIN = '\0virtables-chevrotain';
const chevrotainModule = join(dist, 'grammar', 'chevrotain.js');

const build = await rolldown({
  input: join(dist, 'src', 'cli', 'main.js'),
  platform: 'node',
  logLevel: 'warn',
  plugins: [
    {
      name: 'virtables-layout',
      resolveId(source, importer) {
        if (source in LAZY_BUILTINS) return LAZY_PREFIX + source;
        if (EXTERNAL.includes(source)) return { id: source, external: true };
        if (importer && source.startsWith('.') && resolve(dirname(importer), source) === chevrotainModule) {
          return CHEVROTAIN;
        }
        return null;
      },
      load(id) {
        if (id === CHEVROTAIN) return `export * from ${JSON.stringify(chevrotainBundle)};\n`;
        if (!id.startsWith(LAZY_PREFIX)) return null;
        const name = id.slice(LAZY_PREFIX.length);
        const load = `const load = () => process.getBuiltinModule(${JSON.stringify(name)});\n`;
        return (
          load + LAZY_BUILTINS[name].map((f) => `export const ${f} = (...args) => load().${f}(...args);\n`).join('')
        );
      },
    },
  ],
});
const { output } = await build.generate({
  format: 'cjs',
  codeSplitting: false,
  // Whitespace only: names stay as written (messages and stack frames read the same), and
  // non-ASCII is escaped, so V8 holds the source as one byte per character.
  minify: { compress: false, mangle: false, codegen: { removeWhitespace: true, asciiOnly: true } },
});
await build.close();

// An external package's import must be a real dynamic import, resolved from the package's own
// node_modules: bin/virtables passes the script an `importExternal` for that.
const dynamic = /\bimport\((["'`])([^"'`]+)\1\)/g;
let code = output[0].code;
const unknown = [...code.matchAll(dynamic)].map((m) => m[2]).filter((s) => !EXTERNAL.includes(s));
const required = EXTERNAL.filter((p) => code.includes(`require(${JSON.stringify(p)})`));
if (unknown.length > 0 || required.length > 0 || /\bimport\(\s*[^"'`\s]/.test(code)) {
  throw new Error(
    `bundle: imports left that the script cannot make: ${[...unknown, ...required].join(', ') || 'import(<expression>)'}`,
  );
}
code = code.replace(dynamic, (_m, _q, spec) => `importExternal(${JSON.stringify(spec)})`);
// The file is one function expression, which bin/virtables compiles as it is and calls with
// CommonJS's arguments and `importExternal`.
writeFileSync(out, `(function (exports, require, module, __filename, __dirname, importExternal) {${code}\n})\n`);

// The code cache is taken after a small audit of the repo's own scenario has run, so it holds the
// functions such a run compiles, not only the top level. V8 refuses a cache made by another V8 or
// with other flags, and bin/virtables then compiles as usual.
const cache = `${out}.cache`;
rmSync(cache, { force: true });
const env = { ...process.env, VIRTABLES_WRITE_CODE_CACHE: cache };
delete env.VIRTABLES_DEBUG; // which would run the modules, not the bundle
const warm = spawnSync(
  process.execPath,
  [
    join(root, 'bin', 'virtables'),
    'audit',
    join(root, 'corpus', 'audit', 'natted.save'),
    '--net',
    join(root, 'corpus', 'seed-lab', 'natted.xml'),
  ],
  { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
);
if (warm.status !== 0 && warm.status !== 1) {
  throw new Error(`bundle: the warm-up audit failed (exit ${warm.status}): ${warm.stderr}`);
}
if (new Script(readFileSync(out, 'latin1'), { filename: out, cachedData: readFileSync(cache) }).cachedDataRejected) {
  throw new Error(`bundle: V8 refuses the code cache it has just written (${cache})`);
}
