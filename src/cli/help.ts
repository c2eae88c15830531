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

/** `koi-net migrate --help`: from a Python node, and between files and PostgreSQL. */
export const MIGRATE_HELP = `Usage: koi-net migrate --from PY_NODE_DIR --data-dir NEW_DIR [--json]
       koi-net migrate --from DATA_DIR --store postgres://USER@HOST:PORT/DB [--data-dir CONFIG_DIR] [--json]
       koi-net migrate --from-store postgres://USER@HOST:PORT/DB --data-dir NEW_DIR [--config FILE] [--json]

From a Python node: makes NEW_DIR a data directory of the same node as the Python koi-net node in
PY_NODE_DIR (1.0.0b6, 1.0.x or 2.x): same RID, key, cached bundles, edges and protocol; start it with
\`koi-net start --data-dir NEW_DIR\`. PY_NODE_DIR is only read. NEW_DIR must not exist.
2.x keys: the password comes from PRIV_KEY_PASSWORD or PY_NODE_DIR/.env; the new key file is
encrypted with KOI_NET_PRIV_KEY_PASSWORD when set, else with the same password (start the node
with KOI_NET_PRIV_KEY_PASSWORD set to it).

Onto PostgreSQL: copies the (stopped) file node in DATA_DIR into an empty database in one
transaction: identity, key (the same encrypted PEM: the password is unchanged), bundles with their
manifests as they were, queued events in order, and its koi-net.yaml. With --data-dir, CONFIG_DIR
(new) gets a koi-net.yaml naming the store: \`koi-net start --data-dir CONFIG_DIR\` is the node.
Without it: \`koi-net start --data-dir DATA_DIR --store URL\`. DATA_DIR is only read.

Back to files: writes the (stopped) node of the store into NEW_DIR (must not exist), with the
config the store kept at migration or the one named by --config.

Refused, with nothing written: a running node, a non-empty target store, an existing target
directory, a source that is not a node, an inbox with unprocessed broadcasts.
`;
