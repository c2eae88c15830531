/**
 * The signed protocol of koi-net 1.1+/2.x: node keys, pydantic-exact envelope bytes, signing and
 * verification, and the pieces the node's opt-in signed mode (`protocol: 'signed'`) is built from.
 */
export * from "./errors.js";
export { loadOrCreateNodeKey } from "./node-key.js";
export { openEnvelope } from "./intake.js";
export { NodeKeyPair, nodeRidFromPublicKey, publicKeyHash, importPublicKeyDerB64, verifySignature } from "./keys.js";
export { LosslessNumber, parseLosslessJson, losslessToPlain, isLosslessObject } from "./lossless-json.js";
export { pyJsonDumps, pyJsonString, pyFloatRepr, pyNumberFromJs, pyNumberFromText } from "./pyjson.js";
export { pydanticTimestamp } from "./timestamp.js";
export { PAYLOAD_TYPES, serializePayload, serializeUnsignedEnvelope, signEnvelope, verifyEnvelope, peekEnvelope, findSelfIntroduction, errorResponse, unsignedSha256, } from "./envelope.js";
//# sourceMappingURL=index.js.map