/**
 * The targets of issue 12 and the quiet figures of the Python reference (koi-net 1.0.0b6, logging
 * turned down, 2,000 cached bundles of ~1 KB) that the issue measured with this harness's load.
 * A row carries its target, whether it met it, the reference figure and how many times better
 * than the reference it is (higher is better for both latency and throughput rows).
 */

export interface Goal {
  target: string;
  met: boolean;
  reference?: string;
  /** Times better than the reference: reference/ours for times, ours/reference for rates. */
  vsReference?: number;
}

function ratio(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A latency (or duration) that must be at most `limitMs`. */
export function atMostMs(valueMs: number, limitMs: number, referenceMs?: number): Goal {
  return {
    target: `<= ${limitMs} ms`,
    met: valueMs <= limitMs,
    ...(referenceMs !== undefined ? { reference: `${referenceMs} ms`, vsReference: ratio(referenceMs / valueMs) } : {}),
  };
}

/** A rate that must be at least `floor`. */
export function atLeast(value: number, floor: number, unit: string, reference?: number): Goal {
  return {
    target: `>= ${floor} ${unit}`,
    met: value >= floor,
    ...(reference !== undefined ? { reference: `${reference} ${unit}`, vsReference: ratio(value / reference) } : {}),
  };
}

/** A size that must be at most `limitMb`. */
export function atMostMb(valueMb: number, limitMb: number): Goal {
  return { target: `<= ${limitMb} MB`, met: valueMb <= limitMb };
}

/** Issue 12, item 1. Reference figures are at 2k cached unless named otherwise. */
export const REFERENCE = {
  ingestEventsPerS: 2_574,
  fetchRidsAllMs: 7.3,
  fetchManifestsByTypeMs: 105,
  fetchBundles100Ms: 7.0,
  smallFetchRidsReqPerS: 118,
  /** Start-up over 100k cached bundles, spawn to first answer. */
  startup100kMs: 2_300,
} as const;

export const TARGET = {
  ingestEventsPerS: 20_000,
  fetchRidsAllMs: { 2_000: 0.3, 100_000: 15 } as Record<number, number>,
  fetchManifestsByTypeMs: { 2_000: 2, 100_000: 150 } as Record<number, number>,
  fetchBundles100Ms: 0.7,
  smallFetchRidsReqPerS: 3_000,
  startup100kMs: 1_000,
  rss100kMb: 200,
  fanoutEventsPerS: 5_000,
} as const;
