import { readFileSync } from 'node:fs';
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { expect } from 'chai';
import { KoiNetError } from '../../../src/errors.ts';
import { KoiNetNode } from '../../../src/rid/index.ts';
import { Bundle, Event, EventType, Manifest } from '../../../src/knowledge/index.ts';
import {
  EnvelopeSerializationError,
  InvalidKeyError,
  InvalidPrivateKeyError,
  InvalidSignatureError,
  InvalidTargetError,
  JsonSyntaxError,
  LosslessNumber,
  MalformedEnvelopeError,
  NodeKeyPair,
  ProtocolError,
  errorResponse,
  findSelfIntroduction,
  nodeRidFromPublicKey,
  parseLosslessJson,
  peekEnvelope,
  pyFloatRepr,
  pyJsonDumps,
  pydanticTimestamp,
  serializeUnsignedEnvelope,
  signEnvelope,
  unsignedSha256,
  verifyEnvelope,
  type LosslessObject,
  type Payload,
} from '../../../src/secure/index.ts';

interface EnvelopeVector {
  name: string;
  payload_type: string;
  unsigned_json: string;
  unsigned_sha256: string;
  signed_json: string;
  signer: string;
  signer_public_key_der_b64: string;
  verified_by_python: boolean;
}
interface ForeignCase {
  name: string;
  sent_unsigned_json: string;
  python_reserialized_json?: string;
  identical?: boolean | null;
  python_verifies: boolean;
  verify_error?: string;
}
interface Fixture {
  node_rids: Record<string, { rid: string; public_key_der_b64: string }>;
  envelopes: EnvelopeVector[];
  full_signed_example: {
    private_key_pkcs8_pem_unencrypted: string;
    public_key_der_b64: string;
    public_key_pem: string;
    node_name: string;
    node_rid: string;
    target_node_rid: string;
    target_public_key_der_b64: string;
    unsigned_json: string;
    signed_json: string;
  };
  error_response_body: { status: number; body: string };
  timestamps_from_python_datetimes: { python_datetime: string; pydantic_json: string }[];
  timestamps_wire_roundtrip: { wire_input: string; pydantic_reserialized?: string; error?: string }[];
  foreign_serialization_cases: ForeignCase[];
  pydantic_contents_serialization: Record<string, string>;
}

const fx = JSON.parse(readFileSync(new URL('../../fixtures/pydantic_json.json', import.meta.url), 'utf8')) as Fixture;
const full = fx.full_signed_example;
const keyA = NodeKeyPair.fromPkcs8Pem(full.private_key_pkcs8_pem_unencrypted);
const PUB_A = full.public_key_der_b64;
const PUB_B = full.target_public_key_der_b64;
const RID_A = full.node_rid;
const RID_B = full.target_node_rid;

/** The unsigned envelope's three members as parsed losslessly from pydantic's bytes. */
function losslessEnvelope(text: string): { payload: LosslessObject; source_node: string; target_node: string } {
  const env = parseLosslessJson(text) as LosslessObject;
  return {
    payload: env.get('payload') as LosslessObject,
    source_node: env.get('source_node') as string,
    target_node: env.get('target_node') as string,
  };
}
/** The same through JSON.parse: what the rest of the library holds today. */
function plainEnvelope(text: string): { payload: Payload; source_node: string; target_node: string } {
  return JSON.parse(text) as { payload: Payload; source_node: string; target_node: string };
}
function nodeCryptoVerifies(pubB64: string, message: string, sigB64: string): boolean {
  const key = createPublicKey({ key: Buffer.from(pubB64, 'base64'), format: 'der', type: 'spki' });
  return cryptoVerify('sha256', Buffer.from(message, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sigB64, 'base64'));
}
function signatureOf(signedText: string): string {
  return (JSON.parse(signedText) as { signature: string }).signature;
}

describe('secure/keys', () => {
  it('node RIDs from public keys match the vectors (sha256 of the base64 text)', () => {
    const entries = Object.values(fx.node_rids);
    expect(entries).to.have.length(2);
    for (const { rid, public_key_der_b64 } of entries) {
      const name = KoiNetNode.fromString(rid).name;
      expect(nodeRidFromPublicKey(name, public_key_der_b64).toString()).to.equal(rid);
    }
    expect(nodeRidFromPublicKey(full.node_name, PUB_A).toString()).to.equal(full.node_rid);
  });

  it('reads the vector PKCS#8 key: same public key DER and node RID', () => {
    expect(keyA.publicKeyDerB64).to.equal(PUB_A);
    expect(keyA.nodeRid(full.node_name).toString()).to.equal(RID_A);
    expect(keyA.publicKey.export({ type: 'spki', format: 'pem' }).toString()).to.equal(full.public_key_pem);
  });

  it('exports PKCS#8 PEM that reads back to the same key, plain and encrypted', () => {
    const pem = keyA.exportPkcs8Pem();
    expect(pem).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(NodeKeyPair.fromPkcs8Pem(pem).publicKeyDerB64).to.equal(PUB_A);
    const enc = keyA.exportPkcs8Pem('s3cret');
    expect(enc).to.match(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(NodeKeyPair.fromPkcs8Pem(enc, 's3cret').publicKeyDerB64).to.equal(PUB_A);
    expect(() => NodeKeyPair.fromPkcs8Pem(enc, 'wrong')).to.throw(InvalidPrivateKeyError);
    expect(() => NodeKeyPair.fromPkcs8Pem('not a pem')).to.throw(InvalidPrivateKeyError);
  });

  it('refuses keys on other curves', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => NodeKeyPair.fromPkcs8Pem(k1)).to.throw(InvalidPrivateKeyError);
  });

  it('generates P-256 keys whose raw r||s signatures node:crypto verifies', () => {
    const kp = NodeKeyPair.generate();
    expect(Buffer.from(kp.publicKeyDerB64, 'base64')).to.have.length(91);
    const sig = kp.sign('hello');
    expect(Buffer.from(sig, 'base64')).to.have.length(64);
    expect(nodeCryptoVerifies(kp.publicKeyDerB64, 'hello', sig)).to.equal(true);
    expect(kp.verify('hello', sig)).to.equal(true);
    expect(kp.verify('hellO', sig)).to.equal(false);
    expect(kp.nodeRid('n').hash).to.equal(createHash('sha256').update(kp.publicKeyDerB64).digest('hex'));
    expect(() => kp.nodeRid('a+b')).to.throw(KoiNetError);
  });
});

describe('secure/envelope: the 15 envelope vectors', () => {
  it('covers every payload type but error_response (which is never enveloped)', () => {
    expect(new Set(fx.envelopes.map((v) => v.payload_type))).to.have.length(8);
    expect(fx.envelopes).to.have.length(15);
  });

  for (const v of fx.envelopes) {
    describe(v.name, () => {
      it('our serialization of the parsed envelope equals unsigned_json byte for byte', () => {
        const ours = serializeUnsignedEnvelope(losslessEnvelope(v.unsigned_json));
        expect(ours).to.equal(v.unsigned_json);
        expect(unsignedSha256(ours)).to.equal(v.unsigned_sha256);
        expect(createHash('sha256').update(Buffer.from(ours, 'utf8')).digest('hex')).to.equal(v.unsigned_sha256);
      });

      it('signed_json verifies with the signer key (received-text rule), node:crypto agrees', () => {
        expect(v.verified_by_python).to.equal(true);
        const target = v.signer === RID_A ? RID_B : RID_A;
        const r = verifyEnvelope(v.signed_json, { publicKeyDerB64: v.signer_public_key_der_b64, expectedTargetNode: target });
        expect(r.verifiedBy).to.equal('received_text');
        expect(r.signedText).to.equal(v.unsigned_json);
        expect(r.sourceNode.toString()).to.equal(v.signer);
        expect(r.payload.type).to.equal(v.payload_type);
        expect(nodeCryptoVerifies(v.signer_public_key_der_b64, v.unsigned_json, r.signature)).to.equal(true);
        // Python's rule (re-serialize what was parsed) gives the same bytes here.
        expect(serializeUnsignedEnvelope({ payload: r.lossless.get('payload') as LosslessObject, source_node: r.sourceNode, target_node: r.targetNode })).to.equal(v.unsigned_json);
      });

      it('our signature covers exactly pydantic bytes and verifies with node:crypto', () => {
        const env = losslessEnvelope(v.unsigned_json);
        const signed = signEnvelope(env.payload, { sourceNode: env.source_node, targetNode: env.target_node, keyPair: keyA });
        const sig = signatureOf(signed);
        expect(signed).to.equal(`${v.unsigned_json.slice(0, -1)},"signature":"${sig}"}`);
        expect(nodeCryptoVerifies(PUB_A, v.unsigned_json, sig)).to.equal(true);
        // The signed body has the same shape as the vector's (only the random signature differs).
        expect(signed.replace(/"signature":"[^"]*"/, '')).to.equal(v.signed_json.replace(/"signature":"[^"]*"/, ''));
        const r = verifyEnvelope(signed, { publicKeyDerB64: PUB_A, checkKeyMatchesSource: v.signer === RID_A });
        expect(r.signedText).to.equal(v.unsigned_json);
      });
    });
  }

  it('JSON.parse-based contents reproduce every vector except the one holding Python floats / integer-like keys', () => {
    const differing = fx.envelopes
      .filter((v) => serializeUnsignedEnvelope(plainEnvelope(v.unsigned_json)) !== v.unsigned_json)
      .map((v) => v.name);
    // 1.0, -0.0, 1e16 and 2**64 lose their Python form as JS numbers, and a JS object moves the
    // keys "10" and "2" first; that is why parseLosslessJson exists.
    expect(differing).to.deep.equal(['events_payload_unicode_numbers']);
  });

  it('full_signed_example: the documented signature verifies, ours too', () => {
    expect(full.unsigned_json).to.equal(fx.envelopes[0]!.unsigned_json);
    const r = verifyEnvelope(full.signed_json, { publicKeyDerB64: PUB_A, expectedTargetNode: RID_B });
    expect(r.signedText).to.equal(full.unsigned_json);
    expect(keyA.verify(full.unsigned_json, signatureOf(full.signed_json))).to.equal(true);
    expect(nodeCryptoVerifies(PUB_A, full.unsigned_json, keyA.sign(full.unsigned_json))).to.equal(true);
  });

  it('serializes from the knowledge classes (Event/Bundle/Manifest) to the same bytes', () => {
    const v = fx.envelopes.find((e) => e.name === 'events_payload_handshake')!;
    const wire = plainEnvelope(v.unsigned_json).payload as unknown as { events: unknown[] };
    const events = wire.events.map((e) => Event.fromJSON(e));
    expect(serializeUnsignedEnvelope({ payload: { type: 'events_payload', events }, source_node: KoiNetNode.fromString(RID_A), target_node: RID_B })).to.equal(v.unsigned_json);

    const b = fx.envelopes.find((e) => e.name === 'bundles_payload')!;
    const bw = plainEnvelope(b.unsigned_json).payload as unknown as { bundles: unknown[]; not_found: string[]; deferred: string[] };
    const payload: Payload = { type: 'bundles_payload', bundles: bw.bundles.map((x) => Bundle.fromJSON(x)), not_found: bw.not_found, deferred: bw.deferred };
    expect(serializeUnsignedEnvelope({ payload, source_node: RID_B, target_node: RID_A })).to.equal(b.unsigned_json);
  });

  it('prints defaults, drops extras and None model fields, puts type first', () => {
    const src = RID_A;
    const dst = RID_B;
    const poll = fx.envelopes.find((e) => e.name === 'poll_events_default')!;
    expect(serializeUnsignedEnvelope({ payload: { type: 'poll_events' }, source_node: src, target_node: dst })).to.equal(poll.unsigned_json);
    const empty = fx.envelopes.find((e) => e.name === 'bundles_payload_empty')!;
    expect(serializeUnsignedEnvelope({ payload: { type: 'bundles_payload', bundles: [] }, source_node: dst, target_node: src })).to.equal(empty.unsigned_json);
    const withExtra = { rid_types: [], extra: 1, type: 'fetch_rids' } as unknown as Payload;
    expect(serializeUnsignedEnvelope({ payload: withExtra, source_node: src, target_node: dst })).to.equal(fx.envelopes.find((e) => e.name === 'fetch_rids_all')!.unsigned_json);
    const forget = { type: 'events_payload', events: [{ rid: src, event_type: 'FORGET', manifest: null, contents: null }] } as Payload;
    expect(serializeUnsignedEnvelope({ payload: forget, source_node: src, target_node: dst })).to.contain('[{"rid":"' + src + '","event_type":"FORGET"}]');
  });

  it('refuses what pydantic would refuse or cannot print', () => {
    const base = { source_node: RID_A, target_node: RID_B };
    const bad: unknown[] = [
      { type: 'nope' },
      { type: 'fetch_bundles' },
      { type: 'poll_events', limit: 1.5 },
      { type: 'poll_events', limit: null },
      { type: 'fetch_bundles', rids: ['not an rid'] },
      { type: 'error_response', error: 'teapot' },
      { type: 'events_payload', events: [{ rid: RID_A, event_type: 'DELETE' }] },
      { type: 'events_payload', events: [{ rid: 'orn:x.y:1', event_type: 'NEW', manifest: { rid: 'orn:x.y:1', timestamp: 'yesterday', sha256_hash: 'x' }, contents: {} }] },
      { type: 'events_payload', events: [{ rid: 'orn:x.y:1', event_type: 'NEW', contents: { n: Number.NaN } }] },
      { type: 'events_payload', events: [{ rid: 'orn:x.y:1', event_type: 'NEW', contents: { s: 'a\ud800' } }] },
    ];
    for (const payload of bad) {
      expect(() => serializeUnsignedEnvelope({ ...base, payload: payload as Payload }), JSON.stringify(payload)).to.throw(EnvelopeSerializationError);
    }
    expect(() => serializeUnsignedEnvelope({ payload: { type: 'poll_events' }, source_node: 'orn:koi-net.edge:x', target_node: RID_B })).to.throw(EnvelopeSerializationError);
  });
});

describe('secure/verifyEnvelope: errors', () => {
  const v = fx.envelopes[0]!;

  it('a changed byte -> invalid_signature', () => {
    const tampered = v.signed_json.replace('"PARTIAL"', '"FULL"');
    expect(() => verifyEnvelope(tampered, { publicKeyDerB64: PUB_A })).to.throw(InvalidSignatureError);
    const badSig = v.signed_json.replace(/"signature":"[^"]*"/, `"signature":"${keyA.sign('other')}"`);
    expect(() => verifyEnvelope(badSig, { publicKeyDerB64: PUB_A })).to.throw(InvalidSignatureError);
    const garbage = v.signed_json.replace(/"signature":"[^"]*"/, '"signature":"!!"');
    expect(() => verifyEnvelope(garbage, { publicKeyDerB64: PUB_A })).to.throw(InvalidSignatureError);
  });

  it('a key that does not hash to the source RID -> invalid_key; unusable keys -> invalid_key', () => {
    expect(() => verifyEnvelope(v.signed_json, { publicKeyDerB64: PUB_B })).to.throw(InvalidKeyError);
    expect(() => verifyEnvelope(v.signed_json, { publicKeyDerB64: PUB_B, checkKeyMatchesSource: false })).to.throw(InvalidSignatureError);
    for (const bad of ['', 'not base64!', Buffer.from('junk').toString('base64')]) {
      expect(() => verifyEnvelope(v.signed_json, { publicKeyDerB64: bad })).to.throw(InvalidKeyError);
    }
  });

  it('another target -> invalid_target (checked after the signature)', () => {
    let err: unknown;
    try {
      verifyEnvelope(v.signed_json, { publicKeyDerB64: PUB_A, expectedTargetNode: RID_A });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InvalidTargetError);
    expect(err).to.be.instanceOf(ProtocolError);
    expect((err as ProtocolError).errorType).to.equal('invalid_target');
    expect(errorResponse((err as ProtocolError).errorType)).to.equal('{"type":"error_response","error":"invalid_target"}');
  });

  it('not an envelope -> malformed_envelope', () => {
    for (const text of ['', 'nope', '[]', '{"payload":{"type":"poll_events"},"source_node":"x","target_node":"y","signature":"a"}', '{"payload":{"type":"poll_events"}}']) {
      expect(() => verifyEnvelope(text, { publicKeyDerB64: PUB_A }), text).to.throw(MalformedEnvelopeError);
    }
  });

  it('falls back to the pydantic re-serialization when the text was printed differently', () => {
    const obj = JSON.parse(v.signed_json) as Record<string, unknown>;
    const reordered = JSON.stringify({ signature: obj.signature, target_node: obj.target_node, source_node: obj.source_node, payload: obj.payload }, null, 2);
    const r = verifyEnvelope(reordered, { publicKeyDerB64: PUB_A, expectedTargetNode: RID_B });
    expect(r.verifiedBy).to.equal('reserialized');
    expect(r.signedText).to.equal(v.unsigned_json);
  });

  it('peekEnvelope and findSelfIntroduction find the key an unknown node introduces', () => {
    const peek = peekEnvelope(v.signed_json);
    expect(peek.sourceNode.toString()).to.equal(RID_A);
    const intro = findSelfIntroduction(peek);
    expect(intro?.publicKeyDerB64).to.equal(PUB_A);
    expect(verifyEnvelope(v.signed_json, { publicKeyDerB64: intro!.publicKeyDerB64!, expectedTargetNode: RID_B }).sourceNode.toString()).to.equal(RID_A);
    expect(findSelfIntroduction(peekEnvelope(fx.envelopes.find((e) => e.name === 'poll_events_default')!.signed_json))).to.equal(undefined);
  });

  it('error_response body equals the vector; every kind prints the same way', () => {
    expect(errorResponse('unknown_node')).to.equal(fx.error_response_body.body);
    for (const kind of ['unknown_node', 'invalid_key', 'invalid_signature', 'invalid_target'] as const) {
      expect(JSON.parse(errorResponse(kind))).to.deep.equal({ type: 'error_response', error: kind });
    }
  });
});

describe('secure/foreign_serialization_cases', () => {
  it('has the 30 cases', () => expect(fx.foreign_serialization_cases).to.have.length(30));

  for (const c of fx.foreign_serialization_cases) {
    it(`${c.name}: we print what Python reprints${c.python_verifies ? '' : ', never the refused form'}`, () => {
      if (c.python_reserialized_json === undefined) {
        // contents_lone_surrogate: Python cannot print it, so we refuse to sign it.
        expect(() => serializeUnsignedEnvelope(losslessEnvelope(c.sent_unsigned_json))).to.throw(EnvelopeSerializationError);
        return;
      }
      const ours = serializeUnsignedEnvelope(losslessEnvelope(c.sent_unsigned_json));
      expect(ours).to.equal(c.python_reserialized_json);
      if (!c.python_verifies) expect(ours).to.not.equal(c.sent_unsigned_json);
      if (c.python_verifies) expect(c.sent_unsigned_json).to.equal(c.python_reserialized_json);
      // Idempotent: Python re-printing our bytes yields our bytes, so our signatures verify there.
      expect(serializeUnsignedEnvelope(losslessEnvelope(ours))).to.equal(ours);
    });
  }

  it('we verify a sender that signed its own (non-pydantic) text, and one that signed pydantic bytes but sent other text', () => {
    for (const c of fx.foreign_serialization_cases.filter((x) => x.python_reserialized_json !== undefined && !x.python_verifies)) {
      const ownText = c.sent_unsigned_json;
      const signedOwn = `${ownText.slice(0, -1)},"signature":"${keyA.sign(ownText)}"}`;
      expect(verifyEnvelope(signedOwn, { publicKeyDerB64: PUB_A }).verifiedBy, c.name).to.equal('received_text');
      const signedPy = `${ownText.slice(0, -1)},"signature":"${keyA.sign(c.python_reserialized_json!)}"}`;
      expect(verifyEnvelope(signedPy, { publicKeyDerB64: PUB_A }).verifiedBy, c.name).to.equal('reserialized');
    }
  });

  it('with JSON.parse instead of the lossless parser, exactly the Python-float and exact-big-int cases differ', () => {
    const differing = fx.foreign_serialization_cases
      .filter((c) => c.python_reserialized_json !== undefined)
      .filter((c) => serializeUnsignedEnvelope(plainEnvelope(c.sent_unsigned_json)) !== c.python_reserialized_json)
      .map((c) => c.name);
    expect(differing).to.deep.equal(['number_one_point_zero', 'number_big_int_exact']);
  });
});

describe('secure/timestamps', () => {
  for (const t of fx.timestamps_wire_roundtrip) {
    it(`${JSON.stringify(t.wire_input)} -> ${t.pydantic_reserialized ?? t.error}`, () => {
      if (t.pydantic_reserialized === undefined) expect(() => pydanticTimestamp(t.wire_input)).to.throw(EnvelopeSerializationError);
      else expect(pydanticTimestamp(t.wire_input)).to.equal(t.pydantic_reserialized);
    });
  }
  it('pydantic output of every Python datetime vector is a fixed point', () => {
    expect(fx.timestamps_from_python_datetimes).to.have.length(6);
    for (const t of fx.timestamps_from_python_datetimes) expect(pydanticTimestamp(t.pydantic_json), t.python_datetime).to.equal(t.pydantic_json);
  });
  it("Manifest.generate's .000000Z and JS toISOString forms come out in pydantic's form", () => {
    const m = Manifest.generate('orn:x.y:1', { a: 1 }, new Date('2025-08-05T20:35:40.000Z'));
    expect(m.timestamp).to.equal('2025-08-05T20:35:40.000000Z');
    expect(pydanticTimestamp(m.timestamp)).to.equal('2025-08-05T20:35:40Z');
    expect(pydanticTimestamp(new Date('2025-08-05T20:35:40.120Z').toISOString())).to.equal('2025-08-05T20:35:40.120000Z');
    const e = Event.fromBundle(Bundle.generate('orn:x.y:1', { a: 1 }, new Date('2025-08-05T20:35:40.000Z')), EventType.NEW);
    expect(serializeUnsignedEnvelope({ payload: { type: 'events_payload', events: [e] }, source_node: RID_A, target_node: RID_B })).to.contain('"timestamp":"2025-08-05T20:35:40Z"');
  });
  it('refuses impossible dates and times', () => {
    for (const bad of ['2025-02-30T00:00:00Z', '2025-08-05T24:00:00Z', '2025-08-05T20:35:60Z', '0000-01-01T00:00:00Z', '2025-08-05T20:35:40+24:00']) {
      expect(() => pydanticTimestamp(bad), bad).to.throw(EnvelopeSerializationError);
    }
  });
});

describe('secure/pydantic contents printing', () => {
  const cases = Object.entries(fx.pydantic_contents_serialization);
  it('has the 11 cases', () => expect(cases).to.have.length(11));

  for (const [name, expected] of cases) {
    it(`${name}: lossless parse + print reproduces ${expected}`, () => {
      expect(pyJsonDumps(parseLosslessJson(expected))).to.equal(expected);
    });
  }

  it('from JS values: everything but integral floats and inexact ints matches; bigint covers 2**64', () => {
    const js: Record<string, unknown> = {
      'float 1.0': 1.0,
      'float -0.0': -0,
      'float 1e16': 1e16,
      'float 1e21': 1e21,
      'float 1.5e-7': 1.5e-7,
      'float 123456789012345680000.0': 123456789012345680000.0,
      'float 5e-324': 5e-324,
      'float 0.1': 0.1,
      'int 2**64': 2n ** 64n,
      "str with U+2028, DEL, U+001F, '/', emoji": '\u2028\u007f\u001f/\u{1F600}',
      'dict key order b,a,10,2': new Map<string, unknown>([
        ['b', 1],
        ['a', 2],
        ['10', 3],
        ['2', 4],
      ]),
    };
    const differing = cases.filter(([name, expected]) => pyJsonDumps({ v: js[name] }) !== expected).map(([name]) => name);
    // A JS number cannot say "I was a Python float": integral floats print as ints (what Python
    // would also print after reading JSON.stringify's text, so still verifiable, but not these bytes).
    expect(differing).to.deep.equal(['float 1.0', 'float -0.0', 'float 1e16', 'float 123456789012345680000.0']);
    expect(pyJsonDumps({ v: 1e21 })).to.equal('{"v":1e21}');
  });

  it('pyFloatRepr follows ryu layout boundaries', () => {
    const table: [number, string][] = [
      [1, '1.0'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e16'],
      [1234567890123456.7, '1234567890123456.8'],
      [0.0001, '0.0001'],
      [0.00001, '0.00001'],
      [0.000001, '1e-6'],
      [-2.5e-10, '-2.5e-10'],
      [1.7976931348623157e308, '1.7976931348623157e308'],
      [123.456, '123.456'],
    ];
    for (const [n, s] of table) expect(pyFloatRepr(n), String(n)).to.equal(s);
  });
});

describe('secure/lossless JSON parser', () => {
  it('keeps number text and key order; duplicate keys keep first position, last value (as a Python dict)', () => {
    const v = parseLosslessJson('{"b":1.0,"10":2,"a":[1e400,-0],"b":3}') as LosslessObject;
    expect([...v.keys()]).to.deep.equal(['b', '10', 'a']);
    expect((v.get('b') as LosslessNumber).text).to.equal('3');
    expect(((v.get('a') as unknown[])[0] as LosslessNumber).text).to.equal('1e400');
  });
  it('is strict RFC 8259', () => {
    for (const bad of ['', '{', '{"a":1,}', '[1,]', '01', '1.', '.5', '+1', 'NaN', "{'a':1}", '"\u0001"', '"\\x"', '{"a":1} x', 'tru']) {
      expect(() => parseLosslessJson(bad), JSON.stringify(bad)).to.throw(JsonSyntaxError);
    }
    expect(() => parseLosslessJson('['.repeat(10000) + ']'.repeat(10000))).to.throw(JsonSyntaxError);
  });
  it('decodes strings as JSON.parse does', () => {
    const s = '"a\\u00e9\\n\\"\\\\\\/\\ud83d\\ude00 é"';
    expect(parseLosslessJson(s)).to.equal(JSON.parse(s));
  });
});
