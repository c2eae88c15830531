/**
 * The commands of issue 13 beside init/start/status: `migrate` and the operator shell. Each parses
 * its own flags, so the node flags of cli.ts stay as they are; cli.ts only hands argv over.
 */
import { runMigrate } from './migrate.ts';
import { runShell, SHELL_COMMANDS } from './shell.ts';

export const EXTRA_HELP = `  koi-net migrate --from PY_NODE_DIR --data-dir NEW_DIR   take over a Python koi-net node (1.0.0b6, 1.0.x, 2.x)
  koi-net migrate --from DATA_DIR --store URL [--data-dir CONFIG_DIR]   move a file node onto PostgreSQL
  koi-net migrate --from-store URL --data-dir NEW_DIR [--config FILE]   and back to files
  koi-net network nodes|edges  [--url URL | --data-dir DIR] [--json]   the graph of a running node
  koi-net fetch rids|manifests|bundles [--rid-types T,..] [--rids R,..] [--url URL | --data-dir DIR] [--json]
  koi-net broadcast [FILE|-]   [--url URL | --data-dir DIR]      send an event (JSON) to a running node
  koi-net edge propose|approve ...                                 see koi-net edge --help
`;

/** The exit code of an issue-13 command, or undefined when argv[0] is none of them. */
export function runExtraCommand(argv: readonly string[]): Promise<number> | undefined {
  const [command, ...rest] = argv;
  if (command === 'migrate') return runMigrate(rest);
  if (command !== undefined && SHELL_COMMANDS.includes(command)) return runShell(command, rest);
  return undefined;
}
