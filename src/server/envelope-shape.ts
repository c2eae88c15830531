import { openapiDocument } from '../protocol/spec.ts';

/** The fields every signed envelope has: the contract's SignedEnvelope `required` list. */
const ENVELOPE_FIELDS: readonly string[] = (() => {
  const required = openapiDocument.components.schemas['SignedEnvelope']?.['required'];
  if (!Array.isArray(required) || required.length === 0) throw new Error('the contract has no SignedEnvelope.required');
  return required.map(String);
})();

/**
 * Whether a parsed request body is a signed envelope rather than an unsigned body: an object with
 * every field the contract's SignedEnvelope requires (`payload`, `source_node`, `target_node`,
 * `signature`). No unsigned request body has those, so the two formats cannot be confused; the
 * envelope's own checks (the contract's schemas, the signature) come after, on the signed path.
 */
export function isEnvelopeShaped(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return ENVELOPE_FIELDS.every((field) => Object.prototype.hasOwnProperty.call(value, field));
}
