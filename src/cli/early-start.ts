/**
 * Work `koi-net start` begins before the node's modules load (bin/koi-net.js calls this first, so
 * it imports nothing heavy): the listing of the cache directory of `--data-dir`, which a start
 * after a crash needs and which the thread pool makes while this thread loads modules
 * (cache/prefetch.ts; open() takes it only if the directory did not change meanwhile). From the
 * flags alone: with `--config` or `--store` the data dir or the store may be elsewhere, so
 * nothing is started; a listing nobody takes is dropped.
 */
import { join } from 'node:path';
import { prefetchCacheListing } from '../cache/prefetch.ts';

export function startEarlyWork(argv: readonly string[]): void {
  if (!argv.includes('start')) return;
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^(-c|--config|--store)(=|$)/.test(arg)) return;
    if (arg === '--data-dir') dataDir = argv[++i];
    else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
  }
  if (dataDir) prefetchCacheListing(join(dataDir, 'cache'));
}
