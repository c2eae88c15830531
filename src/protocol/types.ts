/**
 * Wire (snake_case JSON) types, all taken from the generated types (openapi-typescript's; for the
 * sender's side of signed payloads hey-api's), so the contract is the single source; the const
 * objects give the enums runtime values that stay in sync via `satisfies`.
 */
import type { components } from '../../generated/openapi-typescript/koi-net.ts';
import type * as SenderSide from '../../generated/hey-api/types.gen.ts';

export type Schemas = components['schemas'];
export type SchemaName = keyof Schemas;

export type RIDString = Schemas['RID'];
export type RIDTypeString = Schemas['RIDType'];
export type EventTypeJSON = Schemas['EventType'];
export type ContentsJSON = Schemas['Contents'];
export type ManifestJSON = Schemas['Manifest'];
export type BundleJSON = Schemas['Bundle'];
export type EventJSON = Schemas['Event'];
export type NodeProvides = Schemas['NodeProvides'];
export type NodeProfile = Schemas['NodeProfile'];
export type EdgeProfile = Schemas['EdgeProfile'];
export type EventsPayload = Schemas['EventsPayload'];
export type PollEvents = Schemas['PollEvents'];
export type FetchRids = Schemas['FetchRids'];
export type RidsPayload = Schemas['RidsPayload'];
export type FetchManifests = Schemas['FetchManifests'];
export type ManifestsPayload = Schemas['ManifestsPayload'];
export type FetchBundles = Schemas['FetchBundles'];
export type BundlesPayload = Schemas['BundlesPayload'];
export type ValidationErrorJSON = Schemas['ValidationError'];
export type HTTPValidationError = Schemas['HTTPValidationError'];
export type ErrorBody = Schemas['ErrorBody'];

// The signed format (koi-net 1.1+ / 2.x): envelopes, their `type`-tagged payloads, error_response.
export type PayloadType = Schemas['PayloadType'];
export type SignedPayload = Schemas['SignedPayload'];
export type SignedPollEvents = Schemas['SignedPollEvents'];
export type SignedFetchRids = Schemas['SignedFetchRids'];
export type SignedFetchManifests = Schemas['SignedFetchManifests'];
export type SignedFetchBundles = Schemas['SignedFetchBundles'];
export type SignedRidsPayload = Schemas['SignedRidsPayload'];
export type SignedManifestsPayload = Schemas['SignedManifestsPayload'];
export type SignedBundlesPayload = Schemas['SignedBundlesPayload'];
export type SignedEventsPayload = Schemas['SignedEventsPayload'];
export type ErrorType = Schemas['ErrorType'];
export type ErrorResponse = Schemas['ErrorResponse'];
export type UnsignedEnvelope = Schemas['UnsignedEnvelope'];
export type SignedEnvelope = Schemas['SignedEnvelope'];
/**
 * A signed-format payload as a sender writes it: fields with a default (`limit`, `rid_types`,
 * `not_found`, ...) may be left out. hey-api's types model that side (openapi-typescript's above
 * model the received side, defaults filled in).
 */
export type SignedPayloadToSend = SenderSide.SignedPayload;
/** An unsigned envelope as a sender writes it (payload defaults optional). */
export type UnsignedEnvelopeToSend = SenderSide.UnsignedEnvelope;

/** @deprecated Use `ManifestJSON` (the contract's Manifest). */
export type ManifestWire = ManifestJSON;
/** @deprecated Use `BundleJSON` (the contract's Bundle). */
export type BundleWire = BundleJSON;
/** @deprecated Use `EventJSON` (the contract's Event). */
export type EventWire = EventJSON;

/** `satisfies` makes adding an enum member to the spec without updating the const a type error. */
type EnumObject<T extends string> = { readonly [K in T]: K };

export const NodeType = { FULL: 'FULL', PARTIAL: 'PARTIAL' } as const satisfies EnumObject<Schemas['NodeType']>;
export type NodeType = Schemas['NodeType'];

export const EdgeType = { WEBHOOK: 'WEBHOOK', POLL: 'POLL' } as const satisfies EnumObject<Schemas['EdgeType']>;
export type EdgeType = Schemas['EdgeType'];

export const EdgeStatus = { PROPOSED: 'PROPOSED', APPROVED: 'APPROVED' } as const satisfies EnumObject<
  Schemas['EdgeStatus']
>;
export type EdgeStatus = Schemas['EdgeStatus'];
