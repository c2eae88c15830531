import { flagHelp } from '../config/index.ts';
import { EXTRA_HELP } from './commands.ts';

export function helpText(): string {
  return `koi-net: run and inspect KOI-net nodes

Usage:
  koi-net init   [--config FILE] [--force] [node flags]   write a commented config and the node identity
  koi-net start  [--config FILE] [node flags]             run the node until SIGINT/SIGTERM
  koi-net status [--data-dir DIR | --config FILE | --store URL] [--json] report on a node (files, or its PostgreSQL store read-only)
${EXTRA_HELP}  koi-net --help | --version

Node flags. Precedence: command-line flags > KOI_NET_* environment variables > config file > defaults.
${flagHelp()}
Without --config, start and status use <data-dir>/koi-net.yaml or ./koi-net.yaml if present.
When start finds no config file, it writes the effective one to <data-dir>/koi-net.yaml, so
\`koi-net start --data-dir DIR\` alone restarts the same node.
`;
}
