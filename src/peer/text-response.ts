/**
 * A Response whose text comes from a function instead of a body stream, for middleware that must
 * stand between openapi-fetch and the wire without copying the answer: rebuilding a Response from
 * a string costs a stream round trip (hundreds of µs for a 25 kB answer), this costs a few.
 *
 * Only `text()` and `json()` are served (openapi-fetch's parseAs 'text' and 'json' read through
 * them: it sees no Content-Length here, so its 'json' path calls text()); `body`, `arrayBuffer()`
 * and `blob()` read as empty, so peer calls use parseAs 'text' or 'json'.
 */
export class TextResponse extends Response {
  readonly #read: () => Promise<string>;

  constructor(status: number, read: () => Promise<string>) {
    super(null, { status });
    this.#read = read;
  }

  override text(): Promise<string> {
    return this.#read();
  }

  override async json(): Promise<unknown> {
    return JSON.parse(await this.#read()) as unknown;
  }
}
