/**
 * Raw HTTP for the conformance suite. The typed client cannot send malformed bodies or odd
 * Content-Types, and every failure report must show the exact request, so all requests go
 * through here.
 */

/** One request as the suite sends it; `contentType: null` sends no Content-Type header at all. */
export interface ProbeRequest {
  method: 'GET' | 'POST';
  /** Below the node's base URL, e.g. `/rids/fetch`. */
  path: string;
  /** The exact body bytes (as a string); undefined = no body. */
  body?: string;
  contentType?: string | null;
}

export type ProbeResponse =
  | { kind: 'answer'; status: number; contentType: string | undefined; text: string; json: JsonParse }
  | { kind: 'error'; message: string };

export type JsonParse = { ok: true; value: unknown } | { ok: false };

const MAX_SHOWN = 300;

function clip(s: string, max = MAX_SHOWN): string {
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

/** The request as a report line: enough to replay it with curl. */
export function describeRequest(req: ProbeRequest): string {
  if (req.body === undefined) return `${req.method} ${req.path} (no body)`;
  const ct = req.contentType === null ? 'no Content-Type' : `Content-Type: ${req.contentType ?? 'application/json'}`;
  return `${req.method} ${req.path} (${ct}) body=${clip(JSON.stringify(req.body))}`;
}

export function describeResponse(res: ProbeResponse): string {
  if (res.kind === 'error') return `request failed: ${res.message}`;
  return `${res.status} ${clip(res.text.replace(/\s+/g, ' '), 200)}`;
}

export async function send(baseUrl: string, req: ProbeRequest, timeoutMs: number): Promise<ProbeResponse> {
  const headers: Record<string, string> = {};
  if (req.contentType !== null && req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  try {
    const res = await fetch(baseUrl + req.path, {
      method: req.method,
      headers,
      // fetch would add `text/plain;charset=UTF-8` for a string body; a Uint8Array adds nothing,
      // which is how the no-Content-Type case reaches the node as seed-era clients send it.
      body: req.body === undefined ? undefined : new TextEncoder().encode(req.body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    const text = await res.text();
    let json: JsonParse = { ok: false };
    try {
      json = { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      // Left as not-JSON; the checks decide whether that matters.
    }
    return { kind: 'answer', status: res.status, contentType: res.headers.get('content-type') ?? undefined, text, json };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return { kind: 'error', message: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
}

/** A POST of a JSON value with the usual Content-Type. */
export function postJson(path: string, value: unknown): ProbeRequest {
  return { method: 'POST', path, body: JSON.stringify(value) };
}
