/**
 * Replays every request the Python reference was probed with (test/fixtures/http_status.json,
 * versions 1.0.0b6 and 1.0.0, the unsigned protocol this library speaks) against our server over
 * real HTTP, and compares status codes and body shapes.
 *
 * Deliberate differences from the reference (also in the server's report):
 *
 * | case                                   | reference          | ours | why                                                     |
 * |----------------------------------------|--------------------|------|---------------------------------------------------------|
 * | `invalid_rids` (all five endpoints)    | 500 text/plain     | 422  | an RID rid-lib cannot parse is bad input, not a crash   |
 * | `no_koi_net_prefix` (default options)  | 200 (1.0.x)        | 404  | 2.x serves only under /koi-net; `alsoServeUnprefixed:   |
 * |                                        |                    |      | true` restores the 1.0.x answer (used for this replay)  |
 * | poll `limit` < 0 (not in the fixture)  | 200                | 422  | the contract says `minimum: 0`; negative has no meaning |
 * | invalid UTF-8 body (not in fixture)    | 400                | 422  | FastAPI's generic "error parsing the body"; we keep all |
 * |                                        |                    |      | bad-body answers 422 with a `json_invalid` detail       |
 * | `bad_timestamp` broadcast              | 422 (timestamp)    | 422  | same status; we also name `sha256_hash` ("x" is not a   |
 * |                                        |                    |      | 64-hex digest under the contract)                       |
 * | 422 detail items                       | pydantic locs with | 422  | we name the field (`body.rid`) without pydantic's       |
 * |                                        | validator suffixes |      | validator-chain segments (`is-instance[RID]`)           |
 *
 * Everything else must match the reference's status exactly.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { send, startTestServer, type TestServer } from './helpers.ts';

interface ReferenceCase {
  endpoint: string;
  case: string;
  method: string;
  content_type: string | null;
  request_body: string;
  status: number;
  shape: string;
  response?: unknown;
  response_text?: string;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/http_status.json', import.meta.url), 'utf8'),
) as Record<string, ReferenceCase[] | string>;

const VERSIONS = ['b6', 'v1.0.0'] as const;

/** Where we answer something else than the reference on purpose (besides its 500s -> 422). */
const DELIBERATE: Record<string, number> = {
  // (none among the probed cases: the reference's 500s are the only status differences)
};

function expectedStatus(version: string, c: ReferenceCase): number {
  const key = `${version} ${c.endpoint} ${c.case}`;
  if (key in DELIBERATE) return DELIBERATE[key]!;
  // The reference crashes on RID strings rid-lib cannot parse; that is bad input: 422.
  if (c.status === 500) return 422;
  return c.status;
}

/** pydantic appends validator-chain names (`is-instance[RID]`, `chain[...]`) to locs; the field is what counts. */
function fieldLoc(loc: readonly (string | number)[]): (string | number)[] {
  const cut = loc.findIndex((p) => typeof p === 'string' && /[[\]]/.test(p));
  return cut === -1 ? [...loc] : loc.slice(0, cut);
}

type DetailItem = { type: unknown; loc: unknown; msg: unknown };

function assertFastApi422(json: unknown): DetailItem[] {
  expect(json, 'a 422 body').to.be.an('object');
  const detail = (json as { detail?: unknown }).detail;
  expect(detail, 'detail').to.be.an('array').that.is.not.empty;
  for (const item of detail as DetailItem[]) {
    expect(item.type, 'detail[].type').to.be.a('string');
    expect(item.msg, 'detail[].msg').to.be.a('string');
    expect(item.loc, 'detail[].loc').to.be.an('array');
    expect((item.loc as unknown[])[0], 'loc starts with body').to.equal('body');
  }
  return detail as DetailItem[];
}

describe('server: replay of the Python reference probes (http_status.json)', function () {
  let server: TestServer;
  before(async () => {
    // 1.0.x answers the five paths without the prefix too; replay with that behaviour on.
    server = await startTestServer({ alsoServeUnprefixed: true });
  });
  after(async () => {
    await server.close();
  });

  for (const version of VERSIONS) {
    const cases = fixture[version] as ReferenceCase[];
    describe(version, () => {
      it('has probes', () => {
        expect(cases).to.be.an('array').with.length.greaterThan(50);
      });
      for (const c of cases) {
        const want = expectedStatus(version, c);
        it(`${c.method} ${c.endpoint} ${c.case}: reference ${c.status}, ours ${want}`, async () => {
          const res = await send(server.url + c.endpoint, {
            method: c.method,
            body: c.request_body,
            contentType: c.content_type,
          });
          expect(res.status, res.text.slice(0, 500)).to.equal(want);
          expect(res.contentType ?? '', 'always JSON').to.match(/^application\/json/);
          expect(res.json !== undefined || res.text === 'null', 'parseable JSON').to.equal(true);

          if (want === 422) {
            const ours = assertFastApi422(res.json);
            // Every field the reference named, we name too.
            const refDetail = (c.response as { detail?: unknown } | undefined)?.detail;
            if (Array.isArray(refDetail)) {
              const ourLocs = ours.map((i) => JSON.stringify(i.loc));
              for (const item of refDetail as { loc: (string | number)[] }[]) {
                const loc = JSON.stringify(fieldLoc(item.loc));
                expect(ourLocs, `reference names ${loc}`).to.include(loc);
              }
            }
          } else if (want === 200) {
            const ref = c.response;
            if (ref === null) expect(res.text).to.equal('null');
            else if (ref && typeof ref === 'object') {
              expect(res.json).to.be.an('object').that.includes.all.keys(Object.keys(ref));
            }
          } else if (typeof c.response === 'object' && c.response !== null) {
            // 404 / 405: the same `{"detail": "..."}` as FastAPI.
            expect(res.json).to.deep.equal(c.response);
          }
        });
      }
    });
  }

  it('without alsoServeUnprefixed, the unprefixed path is 404 (2.x behaviour)', async () => {
    const strict = await startTestServer();
    try {
      const res = await send(`${strict.url}/rids/fetch`, { body: '{}' });
      expect(res.status).to.equal(404);
      expect(res.json).to.deep.equal({ detail: 'Not Found' });
    } finally {
      await strict.close();
    }
  });
});
