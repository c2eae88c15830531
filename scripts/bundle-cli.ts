/**
 * The `koi-net` command's bundle (the second step of `npm run build`, after tsc): dist/src/ stays
 * the library (the package's `exports` and its .d.ts); the command runs from dist/cli/, a few
 * files made by esbuild from dist/src/, so `koi-net start` loads ~10 files of ours instead of
 * ~200 modules (resolving, stat'ing and compiling them one by one cost ~0.2 s of every start).
 *
 * - dist/cli/early-start.js and dist/cli/cli.js: the command's two entries (bin/koi-net.js
 *   imports them in that order, so the cache listing starts before the big file is compiled).
 *   One build with `splitting`: code both use (the listing's module state) and the lazily
 *   imported parts (PostgreSQL, migrate) are shared chunks beside them, so every class exists
 *   once per process and instanceof holds.
 * - dist/cli/thread.js: the cache's worker-thread module, on its own (a thread is its own module
 *   graph) and whole, next to the chunk holding cache/worker-host.js, which loads './thread.js'
 *   beside itself.
 *
 * Not minified, names kept: a stack trace from the bundle names our functions. Source maps chain
 * through tsc's to src/*.ts (`node --enable-source-maps`); mappings only, without the sources' text
 * (that would double the tarball: it holds the dependencies' sources too). Packages that find
 * their own files at run time or load only on demand stay external (resolved from node_modules).
 */
import { build, type BuildOptions } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = `${root}dist/cli`;

const EXTERNAL = [
  // Required (express-loader.ts) or imported (validation.ts) only when the express pipeline is
  // built; they bring their own ajv and many files.
  'express',
  'express-openapi-validator',
  // The pages serve its files from the installed package (pages/assets.ts).
  'swagger-ui-dist',
  // PostgreSQL only: imported with the postgres chunk.
  'pg',
  // pino's transports run thread-stream workers from pino's own files and resolve their target
  // (pino-pretty) from the caller: both need the installed package.
  'pino',
  'pino-pretty',
];

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  keepNames: true,
  minify: false,
  sourcemap: true,
  sourcesContent: false,
  external: EXTERNAL,
  outdir,
  logLevel: 'warning',
  // Bundled CommonJS packages (ajv, graphology, ...) call require() for node's built-ins, which an
  // ES module does not have.
  banner: { js: "import { createRequire as __koiCreateRequire } from 'node:module';\nconst require = __koiCreateRequire(import.meta.url);" },
};

rmSync(outdir, { recursive: true, force: true });
const results = await Promise.all([
  build({
    ...common,
    entryPoints: { 'early-start': 'dist/src/cli/early-start.js', cli: 'dist/src/cli.js' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
  }),
  build({ ...common, entryPoints: { thread: 'dist/src/cache/thread.js' } }),
]);

// A warning (an import esbuild cannot follow, a require of a missing file) is a bundle that may
// fail at run time: the build fails instead.
const warnings = results.flatMap((r) => r.warnings);
if (warnings.length > 0) {
  process.stderr.write(`bundle-cli: ${warnings.length} warning(s), see above\n`);
  process.exit(1);
}
