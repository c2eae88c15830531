/**
 * How any caught value is written into a log line or an error message. One helper, so that every
 * log line names the failure the same way (the field is always `err`, see docs/ARCHITECTURE.md).
 */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The same, prefixed with the error's class name, for one-line errors shown to operators. */
export function namedErrorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The `code` of a Node.js system error (ENOENT, EEXIST, ...), if it has one. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
