/**
 * The transport under the typed peer client: node:http(s) over keep-alive agents instead of the
 * global fetch (undici). A coordinator's webhook batch is a few hundred kB; undici's dispatcher
 * and its web streams cost ~0.5-0.8 ms of CPU more per such request than node:http (measured
 * side by side, both through openapi-fetch: 2.6 -> 1.8 ms and 1.7 -> 1.0 ms per 250 kB POST,
 * client and server CPU together), on the path that bounds fan-out.
 *
 * It behaves as fetch does where the client depends on it: a transport failure rejects with
 * `TypeError('fetch failed', { cause })` and an abort with the signal's reason (a TimeoutError for
 * AbortSignal.timeout), also while the body is still arriving, so the error mapping reads the
 * same errors either way. The whole answer is read before it is handed on, as the AnswerResponse
 * the middleware read: status and text only, since no header of an answer is read anywhere.
 * Redirects are not followed: a KOI-net peer answers its endpoints itself, and a 3xx reaches
 * the caller as a RemoteHTTPError naming the status.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AnswerResponse } from './answer-response.ts';

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

/** openapi-fetch's `fetch` option: one request, answered once its body is read in full. */
export async function nodeHttpFetch(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const { status, text } = await nodeHttpRequest(url, request.method, headers, body, request.signal);
  return AnswerResponse.ofText(status, () => Promise.resolve(text));
}

/**
 * A POST of a JSON body already encoded, past openapi-fetch and the Request it builds (which
 * copies a body twice more): the webhook batches, hundreds of kB each. The same headers go out as
 * through nodeHttpFetch (content-type application/json, content-length) and failures are the same
 * fetch-like errors, for the caller's error mapping.
 */
export function postJsonBytes(url: string, body: Buffer | BodyParts, signal: AbortSignal): Promise<{ status: number; text: string }> {
  return nodeHttpRequest(new URL(url), 'POST', { 'content-type': 'application/json' }, body, signal);
}

/** A body as buffers written one after the other (views of shared bytes, see queues/wire.ts). */
export interface BodyParts {
  readonly parts: readonly Buffer[];
  readonly length: number;
}

function nodeHttpRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | BodyParts | undefined,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  if (body !== undefined) headers['content-length'] = String(body.length);
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') return Promise.reject(new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${url.protocol}`) }));

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (cause: unknown): void => {
      if (settled) return;
      settled = true;
      reject(signal.aborted ? (signal.reason as unknown) : new TypeError('fetch failed', { cause }));
    };
    const options = { method, headers, signal, agent: https ? httpsAgent : httpAgent };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error('the connection closed before the whole answer arrived'));
      });
      res.on('end', () => {
        if (settled) return;
        const status = res.statusCode ?? 0;
        // Response refuses statuses outside 200-599 (1xx never reach here).
        if (status < 200 || status > 599) {
          fail(new Error(`invalid HTTP status ${status}`));
          return;
        }
        settled = true;
        resolve({ status, text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8') });
      });
    };
    const req = https ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', fail);
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    // Written before the socket is assigned: the request buffers them and sends them in one writev.
    for (const part of body.parts) req.write(part);
    req.end();
  });
}
