/**
 * A 2xx answer as the middleware hand it on: a Response whose text comes from a function instead
 * of a body stream, or whose JSON is already known (a verified envelope's payload). Standing
 * between openapi-fetch and the wire without copying: rebuilding a Response from a string costs a
 * stream round trip (hundreds of µs for a 25 kB answer), this costs a few.
 *
 * Only `text()` and `json()` are served; `body`, `arrayBuffer()` and `blob()` read as empty. The
 * request handler calls with parseAs 'stream' (openapi-fetch then leaves the body alone) and reads
 * the answer here; a bare PeerClient may use parseAs 'text' or 'json' (openapi-fetch sees no
 * Content-Length, so its 'json' path calls text() too).
 */
export class AnswerResponse extends Response {
  readonly #read: () => Promise<string>;
  readonly #parsed: { value: unknown } | undefined;

  private constructor(status: number, read: () => Promise<string>, parsed: { value: unknown } | undefined) {
    super(null, { status });
    this.#read = read;
    this.#parsed = parsed;
  }

  /** The body, read when someone asks for it (so its failures surface there). */
  static ofText(status: number, read: () => Promise<string>): AnswerResponse {
    return new AnswerResponse(status, read, undefined);
  }

  /** A body already parsed; its text is printed only if someone asks for text. */
  static ofJson(status: number, value: unknown): AnswerResponse {
    return new AnswerResponse(status, () => Promise.resolve(value === undefined ? '' : JSON.stringify(value)), { value });
  }

  /** The parsed body when a middleware already holds it, without printing and parsing it again. */
  get parsed(): { value: unknown } | undefined {
    return this.#parsed;
  }

  override text(): Promise<string> {
    return this.#read();
  }

  override async json(): Promise<unknown> {
    return this.#parsed ? this.#parsed.value : (JSON.parse(await this.#read()) as unknown);
  }
}
