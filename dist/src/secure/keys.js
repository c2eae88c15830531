import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, } from 'node:crypto';
import { InvalidRIDError } from "../errors.js";
import { KoiNetNode } from "../rid/index.js";
import { InvalidKeyError, InvalidPrivateKeyError } from "./errors.js";
/** OpenSSL's name for NIST P-256 / secp256r1, the curve of the koi-net 1.1+ reference. */
const CURVE = 'prime256v1';
/** Standard or URL-safe alphabet: Python's b64decode/urlsafe_b64decode peers accept both. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;
function isP256(key) {
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE;
}
function decodeBase64(text) {
    if (!BASE64.test(text))
        return undefined;
    return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
/** sha256 hex of the UTF-8 bytes of the base64 text (not of the DER bytes), as rid-lib's sha256_hash. */
export function publicKeyHash(publicKeyDerB64) {
    return createHash('sha256').update(publicKeyDerB64, 'utf8').digest('hex');
}
/** `orn:koi-net.node:<name>+<sha256 hex of the base64 DER text>`. */
export function nodeRidFromPublicKey(name, publicKeyDerB64) {
    if (typeof name !== 'string' || name.includes('+')) {
        throw new InvalidRIDError(name, "node name must be a string without '+': it separates the name from the hash");
    }
    return KoiNetNode.fromString(`orn:koi-net.node:${name}+${publicKeyHash(publicKeyDerB64)}`);
}
/** Imports a wire public key; InvalidKeyError when it is not base64 DER SPKI of a P-256 key. */
export function importPublicKeyDerB64(publicKeyDerB64) {
    const der = typeof publicKeyDerB64 === 'string' ? decodeBase64(publicKeyDerB64) : undefined;
    if (der === undefined || der.length === 0)
        throw new InvalidKeyError('public key is not base64 text');
    let key;
    try {
        key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
    catch (err) {
        throw new InvalidKeyError('public key is not a DER SubjectPublicKeyInfo', { cause: err });
    }
    if (!isP256(key))
        throw new InvalidKeyError('public key is not an ECDSA P-256 key');
    return key;
}
/**
 * Checks a base64 signature over `message`. The reference sends raw r||s (64 bytes); a DER
 * signature (what `cryptography` yields before conversion) is accepted too since it is
 * unambiguous. Anything undecodable is simply not a valid signature.
 */
export function verifySignature(publicKey, message, signatureB64) {
    const sig = typeof signatureB64 === 'string' ? decodeBase64(signatureB64) : undefined;
    if (sig === undefined || sig.length === 0)
        return false;
    const data = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    try {
        return cryptoVerify('sha256', data, { key: publicKey, dsaEncoding: sig.length === 64 ? 'ieee-p1363' : 'der' }, sig);
    }
    catch {
        return false;
    }
}
/** A node's ECDSA P-256 identity: signs envelopes and names the node RID. */
export class NodeKeyPair {
    privateKey;
    publicKey;
    /** base64 (standard, padded) of the DER SubjectPublicKeyInfo: NodeProfile.public_key. */
    publicKeyDerB64;
    constructor(privateKey) {
        this.privateKey = privateKey;
        this.publicKey = createPublicKey(privateKey);
        this.publicKeyDerB64 = this.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
        Object.freeze(this);
    }
    static generate() {
        return new NodeKeyPair(generateKeyPairSync('ec', { namedCurve: CURVE }).privateKey);
    }
    /**
     * Reads a PKCS#8 (or SEC1) PEM private key. The Python reference stores it encrypted with the
     * node's password, hence `passphrase`.
     */
    static fromPkcs8Pem(pem, passphrase) {
        let key;
        try {
            key = createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
        }
        catch (err) {
            throw new InvalidPrivateKeyError(`cannot read the private key PEM: ${err.message}`, { cause: err });
        }
        if (!isP256(key))
            throw new InvalidPrivateKeyError('private key is not an ECDSA P-256 key');
        return new NodeKeyPair(key);
    }
    /** PKCS#8 PEM; with a passphrase, encrypted (AES-256-CBC, PBES2) as the reference writes it. */
    exportPkcs8Pem(passphrase) {
        const out = passphrase === undefined
            ? this.privateKey.export({ type: 'pkcs8', format: 'pem' })
            : this.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase });
        return out.toString();
    }
    nodeRid(name) {
        return nodeRidFromPublicKey(name, this.publicKeyDerB64);
    }
    /** base64 of raw r||s over SHA-256 of `message` (UTF-8 when a string). */
    sign(message) {
        const data = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
        return cryptoSign('sha256', data, { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
    }
    verify(message, signatureB64) {
        return verifySignature(this.publicKey, message, signatureB64);
    }
}
//# sourceMappingURL=keys.js.map