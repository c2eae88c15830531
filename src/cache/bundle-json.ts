/**
 * The shape check of a bundle file, without the knowledge types: the cache thread (thread.ts)
 * runs it beside the main thread, and the main thread's parseBundleFile runs the same code, so
 * both judge a file alike. No imports, so the thread loads nothing else.
 */

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The parsed file when it is `{manifest?, contents: {...}}`; throws (with the reason) otherwise. */
export function parseBundleJson(text: string): { manifest: unknown; contents: JsonObject; json: JsonObject } {
  const json: unknown = JSON.parse(text);
  if (!isObject(json)) throw new Error('not a JSON object');
  const contents = json['contents'];
  if (!isObject(contents)) throw new Error('contents is missing or not a JSON object');
  return { manifest: json['manifest'], contents, json };
}

/**
 * A bundle file's text from the bundle's compact JSON: two-space indent, manifest before contents,
 * the layout rid-lib's model_dump_json(indent=2) writes. Parse + stringify gives back the same
 * keys, order and values; done by the writer, so the main thread only pays for the compact JSON.
 */
export function fileText(json: string): string {
  return JSON.stringify(JSON.parse(json), null, 2);
}
