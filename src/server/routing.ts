import { operations, type OperationId } from '../../generated/stubs/operations.ts';
import type { KoiNetNode } from '../rid/index.ts';

export interface RoutedOperation {
  id: OperationId;
  method: string;
  path: string;
}

/** Per-request state kept on res.locals between pipeline stages. */
export interface KoiLocals {
  koiOperation?: RoutedOperation;
  /** Signed mode: the verified sender, whom the answer is signed to. */
  koiSource?: KoiNetNode;
  /** The request had no Content-Type (before the body stage set one for the validator). */
  koiNoContentType?: boolean;
  /** The body passed the fast exact check (fast-accept.ts); the validator is skipped. */
  koiAccepted?: boolean;
  /** Unsigned mode: the bytes the body was parsed from. */
  koiRawBody?: Buffer;
}

/**
 * Paths come from the generated operations table only, so a path changed in the contract cannot
 * leave a stale route here.
 */
export const OPERATIONS_BY_PATH: ReadonlyMap<string, RoutedOperation> = new Map(
  (Object.keys(operations) as OperationId[]).map((id) => {
    const op = operations[id];
    return [op.path, { id, method: op.method.toUpperCase(), path: op.path }];
  }),
);

export const SPEC_PATH = '/openapi.json';

export function normalizeRootPath(root: string): string {
  let r = root.trim();
  if (r === '' || r === '/') return '';
  if (!r.startsWith('/')) r = `/${r}`;
  return r.replace(/\/+$/, '');
}

/** Where a request's events are, for the operation that takes events. */
export function eventsPathOf(op: RoutedOperation | undefined, prefix: string[]): string[] | undefined {
  return op?.id === 'broadcastEvents' ? [...prefix, 'events'] : undefined;
}
