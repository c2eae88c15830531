/**
 * The signed protocol of koi-net 1.1+/2.x: node keys, pydantic-exact envelope bytes, signing and
 * verification. A library module; the node's server and client do not use it yet.
 */
export * from './errors.ts';
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
