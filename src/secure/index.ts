/**
 * The signed protocol of koi-net 1.1+/2.x: node keys, pydantic-exact envelope bytes, signing and
 * verification, and the pieces the node's opt-in signed mode (`protocol: 'signed'`) is built from.
 */
export * from './errors.ts';
export { loadOrCreateNodeKey } from './node-key.ts';
export type { NodeKeyFileOptions, PemStorage } from './node-key.ts';
export { openEnvelope } from './intake.ts';
export type { OpenEnvelopeOptions, PublicKeyLookup } from './intake.ts';
export { NodeKeyPair, nodeRidFromPublicKey, publicKeyHash, importPublicKeyDerB64, verifySignature } from './keys.ts';
export { LosslessNumber, parseLosslessJson, losslessToPlain, isLosslessObject } from './lossless-json.ts';
export type { LosslessValue, LosslessObject } from './lossless-json.ts';
export { pyJsonDumps, pyJsonString, pyFloatRepr, pyNumberFromJs, pyNumberFromText } from './pyjson.ts';
export { pydanticTimestamp } from './timestamp.ts';
export {
  PAYLOAD_TYPES,
  serializePayload,
  serializeUnsignedEnvelope,
  signEnvelope,
  verifyEnvelope,
  peekEnvelope,
  findSelfIntroduction,
  errorResponse,
  unsignedSha256,
} from './envelope.ts';
export type {
  Payload,
  PayloadType,
  PayloadWire,
  PeekedPayload,
  Loose,
  RequestPayload,
  ResponsePayload,
  PollEventsPayload,
  FetchRidsPayload,
  FetchManifestsPayload,
  FetchBundlesPayload,
  RidsPayload,
  ManifestsPayload,
  BundlesPayload,
  EventsPayload,
  ErrorResponsePayload,
  ManifestInput,
  EventInput,
  BundleInput,
  ContentsInput,
  ToWire,
  UnsignedEnvelopeInput,
  SignOptions,
  VerifyOptions,
  VerifiedEnvelope,
} from './envelope.ts';
