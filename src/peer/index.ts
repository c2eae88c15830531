/**
 * The outgoing half of the protocol: the client a node calls its peers with (openapi-fetch's
 * typed client; signing, verification and error mapping as its middleware).
 */
export { RequestHandler } from './request-handler.ts';
export type * from './types.ts';
export { createPeerClient } from './client.ts';
export { bridgePeerFormat, isSignedProfile } from './peer-format.ts';
export type { PeerClient, PeerClientOptions, PeerPath, PeerBody } from './client.ts';
