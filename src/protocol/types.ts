/**
 * Wire (snake_case JSON) types, all taken from openapi-typescript's output so the contract is the
 * single source; the const objects give the enums runtime values that stay in sync via `satisfies`.
 */
import type { components } from '../../generated/openapi-typescript/koi-net.ts';

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
