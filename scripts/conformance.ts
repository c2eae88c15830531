/**
 * CLI: npm run conformance -- --url http://127.0.0.1:8000/koi-net [--json] [--only NAME[,NAME]]
 *        [--timeout MS] [--settle MS] [--list]
 * Exit 0 when every check passes, 1 when any fails, 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { CHECK_NAMES, UnknownCheckError, formatTable, runConformance } from './conformance/index.ts';

const USAGE = 'usage: conformance --url <node base url, e.g. http://127.0.0.1:8000/koi-net> [--json] [--only NAME] [--timeout MS] [--settle MS] [--list]';

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive integer (ms), got ${JSON.stringify(value)}`);
  return n;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let values: { url?: string; json?: boolean; only?: string[]; timeout?: string; settle?: string; list?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        json: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        settle: { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      // npm run passes a bare `--` through when invoked as `npm run conformance -- ...`.
      allowPositionals: true,
    }));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\nchecks: ${CHECK_NAMES.join(', ')}\n`);
    return 0;
  }
  if (values.list) {
    process.stdout.write(`${CHECK_NAMES.join('\n')}\n`);
    return 0;
  }
  if (!values.url) {
    process.stderr.write(`--url is required\n${USAGE}\n`);
    return 2;
  }
  try {
    const report = await runConformance({
      url: values.url,
      only: values.only,
      timeoutMs: positiveInt('timeout', values.timeout),
      settleMs: positiveInt('settle', values.settle),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError || err instanceof UnknownCheckError || err instanceof TypeError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
