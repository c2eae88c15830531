import { ConfigError, UsageError } from '../config/index.ts';
import { KoiNetError } from '../errors.ts';

/** Usage mistakes exit 2 and point at --help; everything else exits 1. */
export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || err instanceof ConfigError;
}

/** Operating-system errors of a start, said in words; the rest is the error's own message. */
export function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err instanceof KoiNetError) return err.message.replace(/\s+/g, ' ');
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e.address === undefined ? undefined : e.port ? `${e.address}:${e.port}` : e.address;
  switch (e.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where ?? 'the port'}: the address is already in use (choose another --port, or --port 0 for a free one)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where ?? 'that address'}: no such address on this machine (check --host)`;
    case 'EACCES':
      return where ? `cannot listen on ${where}: permission denied (ports below 1024 need privileges)` : `permission denied: ${e.message}`;
    default:
      return e.message.split('\n')[0] ?? e.message;
  }
}
