/**
 * KOI-net conformance suite: checks any full node (the Python reference or ours) against the
 * contract in openapi/koi-net.openapi.yaml and ../shared/PROTOCOL.md section 3.
 *
 *   const { results } = await runConformance({ url: 'http://127.0.0.1:8000/koi-net' });
 *
 * Safe against a live node: see checks.ts for what is sent.
 */
import { CHECK_GROUPS, CHECK_NAMES, cleanup, newRunId, partialNodeRid, reachability, type CheckContext, type CheckResult } from './checks.ts';

export type { CheckResult } from './checks.ts';
export { CHECK_NAMES } from './checks.ts';

/** The private RID type of everything the suite broadcasts. */
export const PROBE_RID_TYPE = 'orn:koi-net-conformance.probe';

export interface ConformanceOptions {
  /** The node's KOI-net base URL, e.g. `http://127.0.0.1:8000/koi-net`. */
  url: string;
  /**
   * Only these checks: exact names, or prefixes ending at a dot boundary (`invalid` runs every
   * `invalid.*`). Checks that share state (the probe lifecycle) still run together; only the
   * selected ones are reported.
   */
  only?: string | readonly string[];
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** How long a broadcast may take to show in the node's state; default 3 s. */
  settleMs?: number;
  /**
   * Puts events in the poll queue of the given (made-up) partial node RID and returns how many.
   * No live node queues events for a stranger, so only test harnesses can exercise draining with
   * real events; without it, `limit` is checked on an empty queue.
   */
  seedPollQueue?: (pollRid: string) => Promise<number>;
}

export interface ConformanceReport {
  url: string;
  ok: boolean;
  summary: { passed: number; failed: number; skipped: number };
  results: CheckResult[];
}

export class UnknownCheckError extends Error {
  constructor(readonly unknown: string[]) {
    super(`unknown check name(s): ${unknown.join(', ')}; known: ${CHECK_NAMES.join(', ')}`);
  }
}

function selector(only: ConformanceOptions['only']): (name: string) => boolean {
  if (only === undefined) return () => true;
  const wanted = (typeof only === 'string' ? [only] : [...only])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const matches = (pattern: string, name: string): boolean => name === pattern || name.startsWith(`${pattern}.`);
  const unknown = wanted.filter((w) => !CHECK_NAMES.some((n) => matches(w, n)));
  if (unknown.length > 0) throw new UnknownCheckError(unknown);
  return (name) => wanted.some((w) => matches(w, name));
}

export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const baseUrl = options.url.replace(/\/+$/, '');
  const parsed = new URL(baseUrl);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`not an http(s) URL: ${options.url}`);
  const selected = selector(options.only);
  const runId = newRunId();
  const ctx: CheckContext = {
    baseUrl,
    timeoutMs: options.timeoutMs ?? 10_000,
    settleMs: options.settleMs ?? 3_000,
    probeType: PROBE_RID_TYPE,
    runId,
    pollRid: partialNodeRid('koi-net-conformance', runId),
    seedPollQueue: options.seedPollQueue,
    touched: new Set(),
  };
  const results: CheckResult[] = [];
  let reachable = false;
  try {
    const [reach] = await reachability.run(ctx);
    reachable = reach!.ok;
    if (!reachable) {
      results.push(reach!);
      const rest = CHECK_GROUPS.flatMap((g) => g.names).filter((n) => n !== reach!.name && selected(n));
      results.push(...rest.map((name) => ({ name, ok: false, detail: 'not run: node unreachable' })));
    } else {
      for (const group of CHECK_GROUPS) {
        if (group === reachability) {
          if (selected(reach!.name)) results.push(reach!);
          continue;
        }
        if (!group.names.some(selected)) continue;
        results.push(...(await group.run(ctx)).filter((r) => selected(r.name)));
      }
    }
  } finally {
    // Unreachable nodes got nothing to clean up; trying would just wait on the same error.
    if (reachable) await cleanup(ctx);
  }
  const failed = results.filter((r) => !r.ok).length;
  const skipped = results.filter((r) => r.ok && r.skipped).length;
  return {
    url: baseUrl,
    ok: failed === 0,
    summary: { passed: results.length - failed - skipped, failed, skipped },
    results,
  };
}

/** A plain-text table: name, result, detail (detail is never cut: it carries the failing request). */
export function formatTable(report: ConformanceReport): string {
  const rows = report.results.map((r) => [r.name, r.ok ? (r.skipped ? 'SKIP' : 'PASS') : 'FAIL', r.detail]);
  const header = ['name', 'result', 'detail'];
  const w0 = Math.max(header[0]!.length, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(header[1]!.length, ...rows.map((r) => r[1]!.length));
  const line = (r: string[]): string => `${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`;
  const { passed, failed, skipped } = report.summary;
  return [
    `KOI-net conformance: ${report.url}`,
    line(header),
    line(['-'.repeat(w0), '-'.repeat(w1), '-'.repeat(6)]),
    ...rows.map(line),
    '',
    `${passed} passed, ${failed} failed, ${skipped} skipped (allowed)`,
  ].join('\n');
}
