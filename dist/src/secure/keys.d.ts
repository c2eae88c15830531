import { type KeyObject } from 'node:crypto';
import { KoiNetNode } from '../rid/index.ts';
/** sha256 hex of the UTF-8 bytes of the base64 text (not of the DER bytes), as rid-lib's sha256_hash. */
export declare function publicKeyHash(publicKeyDerB64: string): string;
/** `orn:koi-net.node:<name>+<sha256 hex of the base64 DER text>`. */
export declare function nodeRidFromPublicKey(name: string, publicKeyDerB64: string): KoiNetNode;
/** Imports a wire public key; InvalidKeyError when it is not base64 DER SPKI of a P-256 key. */
export declare function importPublicKeyDerB64(publicKeyDerB64: string): KeyObject;
/**
 * Checks a base64 signature over `message`. The reference sends raw r||s (64 bytes); a DER
 * signature (what `cryptography` yields before conversion) is accepted too since it is
 * unambiguous. Anything undecodable is simply not a valid signature.
 */
export declare function verifySignature(publicKey: KeyObject, message: string | Uint8Array, signatureB64: string): boolean;
/** A node's ECDSA P-256 identity: signs envelopes and names the node RID. */
export declare class NodeKeyPair {
    readonly privateKey: KeyObject;
    readonly publicKey: KeyObject;
    /** base64 (standard, padded) of the DER SubjectPublicKeyInfo: NodeProfile.public_key. */
    readonly publicKeyDerB64: string;
    private constructor();
    static generate(): NodeKeyPair;
    /**
     * Reads a PKCS#8 (or SEC1) PEM private key. The Python reference stores it encrypted with the
     * node's password, hence `passphrase`.
     */
    static fromPkcs8Pem(pem: string, passphrase?: string): NodeKeyPair;
    /** PKCS#8 PEM; with a passphrase, encrypted (AES-256-CBC, PBES2) as the reference writes it. */
    exportPkcs8Pem(passphrase?: string): string;
    nodeRid(name: string): KoiNetNode;
    /** base64 of raw r||s over SHA-256 of `message` (UTF-8 when a string). */
    sign(message: string | Uint8Array): string;
    verify(message: string | Uint8Array, signatureB64: string): boolean;
}
