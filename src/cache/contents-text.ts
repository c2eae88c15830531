/**
 * Contents objects whose compact JSON text is already known: `JSON.stringify(contents)`, exactly,
 * kept by whoever read them from such a text (the server's fast path of broadcasts, see
 * server/compact-slices.ts), so the cache write need not serialize them again. JSON.stringify of
 * 1 KB of contents cost ~5 µs of main-thread CPU per ingested event here, a tenth of ingest.
 *
 * The text describes the object as it was when kept. Whoever may hand the object to code that
 * could change it in place (a handler that is not the library's own) must forget it first: the
 * processor's pipeline does so before the cache write (pipeline.ts).
 */
const texts = new WeakMap<object, string>();

/** Records that `text` is `JSON.stringify(contents)`; the caller has checked it. */
export function keepContentsText(contents: object, text: string): void {
  texts.set(contents, text);
}

/**
 * The kept compact JSON of `contents`, if any, forgotten as it is taken: it serves the one cache
 * write it was kept for, and nothing later can be handed a stale text.
 */
export function takeContentsText(contents: object): string | undefined {
  const text = texts.get(contents);
  if (text !== undefined) texts.delete(contents);
  return text;
}

/** Forgets the kept text of `contents` (it may change in place). */
export function forgetContentsText(contents: object): void {
  texts.delete(contents);
}
