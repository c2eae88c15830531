import type { Middleware } from 'openapi-fetch';
import { RemoteConnectionError, RemoteHTTPError } from '../errors.ts';
import { RemoteProtocolError, isProtocolErrorType, type ProtocolError } from '../secure/index.ts';
import { field, parseOrText } from './json.ts';
import { AnswerResponse } from './answer-response.ts';

export interface ErrorMappingOptions {
  /** The endpoint URLs in errors are `baseUrl + path`, as the caller named them (not URL-normalized). */
  baseUrl: string;
  /** Named in the message of a timeout. */
  timeoutMs: number;
  /** Signed protocol: a 400 `error_response` body becomes RemoteProtocolError. */
  protocolErrors: boolean;
}

/** `…/koi-net` + `/rids/fetch`, whatever trailing slashes the base URL came with. */
export function endpointUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/**
 * The one place where transport and HTTP failures become the client's error classes, so callers
 * (network interface, poller) decide retry-or-drop by class alone: RemoteConnectionError (refused,
 * reset, timeout: retryable), RemoteHTTPError (the peer answered non-2xx; RemoteProtocolError for
 * a signed peer's 400 error_response).
 *
 * The innermost middleware: it sees the answer first. A 2xx answer is handed on as an AnswerResponse
 * whose body read (still under the request's timeout) maps its failures the same way, so a peer
 * that stalls mid-body is a RemoteConnectionError too, whoever reads the body.
 */
export function errorMapping(options: ErrorMappingOptions): Middleware {
  const { baseUrl, timeoutMs, protocolErrors } = options;
  return {
    async onResponse({ response, schemaPath }) {
      const url = endpointUrl(baseUrl, schemaPath);
      const read = (): Promise<string> =>
        response.text().catch((err: unknown) => {
          throw connectionFailure(url, err, timeoutMs);
        });
      if (!response.ok) throw refusal(url, response.status, await read(), protocolErrors);
      // The body is read later, by whoever reads it first, but always through the mapping above.
      return AnswerResponse.ofText(response.status, read);
    },
    onError({ error, schemaPath }) {
      return connectionFailure(endpointUrl(baseUrl, schemaPath), error, timeoutMs);
    },
  };
}

/** A transport failure or timeout of a call to `url` (retryable). */
export function connectionFailure(url: string, err: unknown, timeoutMs: number): RemoteConnectionError {
  return new RemoteConnectionError(url, describeFetchFailure(err, timeoutMs), { cause: err });
}

/** A non-2xx answer: RemoteHTTPError, or RemoteProtocolError for a signed peer's 400 error_response. */
export function refusal(url: string, status: number, text: string, protocolErrors: boolean): RemoteHTTPError {
  const kind = protocolErrors && status === 400 ? errorResponseKind(text) : undefined;
  if (kind !== undefined) return new RemoteProtocolError(url, kind);
  return new RemoteHTTPError(url, status, parseOrText(text));
}

/** The `error` of a `{"type":"error_response",...}` body; undefined for any other 400. */
function errorResponseKind(text: string): ProtocolError['errorType'] | undefined {
  const body = parseOrText(text);
  const error = field(body, 'error');
  return field(body, 'type') === 'error_response' && isProtocolErrorType(error) ? error : undefined;
}

/** undici hides the useful part (ECONNREFUSED, ...) in `cause`; surface it in the message. */
function describeFetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}
