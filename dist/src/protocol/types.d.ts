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
export declare const NodeType: {
    readonly FULL: "FULL";
    readonly PARTIAL: "PARTIAL";
};
export type NodeType = Schemas['NodeType'];
export declare const EdgeType: {
    readonly WEBHOOK: "WEBHOOK";
    readonly POLL: "POLL";
};
export type EdgeType = Schemas['EdgeType'];
export declare const EdgeStatus: {
    readonly PROPOSED: "PROPOSED";
    readonly APPROVED: "APPROVED";
};
export type EdgeStatus = Schemas['EdgeStatus'];
