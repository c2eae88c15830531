/**
 * A handler result that already is the answer's JSON text (a kept listing, bundle files passed on
 * as they are): the server sends it as it is instead of serializing an object.
 */
export class SerializedJson {
  /** UTF-8 bytes or text of one JSON value. */
  constructor(readonly text: string | Buffer) {}
}
