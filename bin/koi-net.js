#!/usr/bin/env node
// The `koi-net` command: runs the CLI's bundle (dist/cli/, made by `npm run build`) on plain Node:
// a few files where dist/src/ is ~200 modules to resolve and compile (scripts/bundle-cli.ts).
// Inside the repository, `npm run koi-net` runs the TypeScript sources instead (always current).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);

// `--version` alone is answered without loading the node stack (express, ajv, pino, ...).
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}

let cli;
try {
  // `start`: the cache directory is listed on the thread pool while the node's modules load.
  (await import('../dist/cli/early-start.js')).startEarlyWork(args);
  cli = await import('../dist/cli/cli.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && /dist\/cli\/(cli|early-start)\.js/.test(String(err.message))) {
    process.stderr.write('koi-net: the compiled CLI (dist/) is missing; run `npm run build` in the package directory\n');
    process.exit(1);
  }
  throw err;
}
// Keep-alive sockets of the HTTP client and pino's worker would otherwise hold the process open.
process.exit(await cli.runCli(args));
