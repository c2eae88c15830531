import type { Middleware } from 'openapi-fetch';
import { RemoteResponseInvalidError } from '../errors.ts';
import type { NodeProfile } from '../protocol/index.ts';
import type { KoiNetNode } from '../rid/index.ts';
import {
  MalformedEnvelopeError,
  ProtocolError,
  openEnvelope,
  signEnvelope,
  type NodeKeyPair,
  type RequestPayload,
} from '../secure/index.ts';
import { endpointUrl } from './error-mapping.ts';
import type { PeerBody, PeerPath } from './client.ts';
import { AnswerResponse } from './answer-response.ts';
import type { NodeProfileSource } from './types.ts';

export interface EnvelopeOptions {
  /** For the URL in errors, as the error mapping names it. */
  baseUrl: string;
  self: KoiNetNode;
  keyPair: NodeKeyPair;
  /** The node the envelopes are addressed to; its answers must be signed by it. */
  peer: KoiNetNode;
  /** Where the answering node's public key is looked up. */
  profiles: NodeProfileSource;
}

/**
 * The signed protocol (koi-net 1.1+) as one middleware, so signed calls go through the same typed
 * client as unsigned ones. Outermost: on the way out it turns the typed (unsigned 1.0.x) body into
 * the payload of a signed envelope; on the way back it sees the answer only after the error mapping
 * passed it as 2xx, verifies the envelope and hands on its payload, already parsed,
 * as the answer.
 */
export function signedEnvelope(options: EnvelopeOptions): Middleware {
  const { baseUrl, self, keyPair, peer, profiles } = options;
  return {
    async onRequest({ request, schemaPath }) {
      // Our own body, serialized by the typed call: one of the PeerBody shapes.
      const payload = signedPayload(schemaPath, JSON.parse(await request.text()) as unknown);
      return new Request(request, { body: signEnvelope(payload, { sourceNode: self, targetNode: peer, keyPair }) });
    },
    async onResponse({ response, schemaPath }) {
      const text = await response.text();
      // A broadcast answers nothing worth verifying (the reference sends no envelope back).
      if (schemaPath === '/events/broadcast' || text.trim() === '' || text.trim() === 'null') {
        return AnswerResponse.ofJson(response.status, null);
      }
      try {
        // Only the node we asked may answer: its key is looked up before the (synchronous)
        // verification, and any other signer is refused before any parsing beyond the envelope's.
        const known = profileKey(await profiles.getNodeProfile(peer));
        const env = openEnvelope(text, {
          self,
          lookup: (sender) => {
            if (sender.toString() !== peer.toString()) {
              throw new MalformedEnvelopeError(`answer signed by ${sender.toString()}, not by ${peer.toString()}`);
            }
            return known;
          },
          // A first contact answers our poll with its own NEW event before we know it.
          allowSelfIntroduction: true,
        });
        return AnswerResponse.ofJson(response.status, env.payload);
      } catch (err) {
        if (err instanceof ProtocolError || err instanceof MalformedEnvelopeError) {
          throw new RemoteResponseInvalidError(endpointUrl(baseUrl, schemaPath), [{ loc: [], msg: err.message, type: err.code }]);
        }
        throw err;
      }
    },
  };
}

/** The signed payload of each typed (unsigned) body. Polls carry no `rid`: the envelope's source_node says who polls. */
const SIGNED_PAYLOADS: { [P in PeerPath]: (body: PeerBody<P>) => RequestPayload } = {
  '/events/broadcast': (b) => ({ type: 'events_payload', events: b.events }),
  '/events/poll': (b) => ({ type: 'poll_events', limit: b.limit ?? 0 }),
  '/rids/fetch': (b) => ({ type: 'fetch_rids', rid_types: b.rid_types ?? [] }),
  '/manifests/fetch': (b) => ({ type: 'fetch_manifests', rid_types: b.rid_types ?? [], rids: b.rids ?? [] }),
  '/bundles/fetch': (b) => ({ type: 'fetch_bundles', rids: b.rids }),
};

function signedPayload(path: string, body: unknown): RequestPayload {
  const build = (SIGNED_PAYLOADS as Record<string, ((body: unknown) => RequestPayload) | undefined>)[path];
  if (build === undefined) throw new TypeError(`no signed payload for ${path}`);
  return build(body);
}

function profileKey(profile: NodeProfile | undefined): { known: boolean; publicKeyDerB64: string | undefined } {
  if (!profile) return { known: false, publicKeyDerB64: undefined };
  const key = profile.public_key;
  return { known: true, publicKeyDerB64: typeof key === 'string' ? key : undefined };
}
