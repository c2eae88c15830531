import type { Event } from '../knowledge/index.ts';

/**
 * Request bodies that passed the app's contract check, so a handler can skip checking them again.
 * A handler called any other way (directly, or behind another server) gets a body that is not
 * marked and checks it in full: the mark is only ever set by createKoiNetApp, after
 * express-openapi-validator accepted the body, and it cannot be set from a request.
 *
 * Unsigned bodies also keep the bytes they were parsed from (valid UTF-8, exactly what JSON.parse
 * read), so the inbox can log a broadcast without serializing it again.
 */
const checked = new WeakMap<object, Buffer | null>();

export function markContractChecked(body: unknown, raw?: Buffer): void {
  if (body !== null && typeof body === 'object') checked.set(body, raw ?? null);
}

export function isContractChecked(body: unknown): boolean {
  return body !== null && typeof body === 'object' && checked.has(body);
}

/** The bytes a contract-checked body was parsed from, when the app had them (unsigned mode). */
export function rawBodyOf(body: unknown): Buffer | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  return checked.get(body) ?? undefined;
}

/**
 * The events the exact check of a broadcast (fast-accept.ts) built while checking `body`: the
 * broadcast handler takes them instead of reading each event again.
 */
const acceptedEvents = new WeakMap<object, readonly Event[]>();

export function keepAcceptedEvents(body: object, events: readonly Event[]): void {
  acceptedEvents.set(body, events);
}

/** The events built from a broadcast body by the server's exact check, if it built them. */
export function acceptedEventsOf(body: unknown): readonly Event[] | undefined {
  return body !== null && typeof body === 'object' ? acceptedEvents.get(body) : undefined;
}
