/** The `--store` URL: checked without loading the driver (the config reads it on every start). */
/** Checks a `--store` value: a postgres:// or postgresql:// URL naming a database. */
export function checkPostgresUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not a URL: ${JSON.stringify(value)}`;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return `must be a postgres://USER@HOST:PORT/DB URL, got ${JSON.stringify(value)}`;
  if (url.pathname.length <= 1) return `names no database (postgres://USER@HOST:PORT/DB): ${JSON.stringify(redactUrl(value))}`;
  return undefined;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparsable URL>';
  }
}
