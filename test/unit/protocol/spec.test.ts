import { expect } from 'chai';
import {
  API_PATHS,
  DEFAULT_ROOT_PATH,
  loadOpenapiDocument,
  openapiDocument,
  operations,
  type OperationId,
} from '../../../src/protocol/index.ts';

describe('protocol/spec', () => {
  it('API_PATHS maps each operationId to its path', () => {
    expect(API_PATHS).to.deep.equal({
      broadcastEvents: '/events/broadcast',
      pollEvents: '/events/poll',
      fetchRids: '/rids/fetch',
      fetchManifests: '/manifests/fetch',
      fetchBundles: '/bundles/fetch',
    });
    expect(Object.isFrozen(API_PATHS)).to.equal(true);
  });

  it('DEFAULT_ROOT_PATH is /koi-net and matches the spec servers', () => {
    expect(DEFAULT_ROOT_PATH).to.equal('/koi-net');
    expect(openapiDocument.servers).to.deep.equal([{ url: DEFAULT_ROOT_PATH }]);
  });

  it('the operations table agrees with the spec document', () => {
    const fromSpec: Record<string, { method: string; path: string }> = {};
    for (const [path, item] of Object.entries(openapiDocument.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { operationId: string }>)) {
        fromSpec[op.operationId] = { method, path };
      }
    }
    expect(Object.keys(operations).sort()).to.deep.equal(Object.keys(fromSpec).sort());
    for (const id of Object.keys(operations) as OperationId[]) {
      expect({ method: operations[id].method, path: operations[id].path }).to.deep.equal(fromSpec[id]);
    }
    expect(operations.fetchBundles).to.deep.include({ requestSchema: 'FetchBundles', responseSchema: 'BundlesPayload' });
    expect(operations.broadcastEvents.responseSchema).to.equal(null);
  });

  it('openapiDocument is frozen; loadOpenapiDocument returns independent mutable copies', () => {
    expect(Object.isFrozen(openapiDocument)).to.equal(true);
    expect(Object.isFrozen(openapiDocument.components.schemas)).to.equal(true);
    const a = loadOpenapiDocument();
    const b = loadOpenapiDocument();
    expect(a).to.deep.equal(openapiDocument);
    expect(a).to.not.equal(b);
    a.components.schemas['RID'] = { type: 'number' };
    delete a.paths['/rids/fetch'];
    expect(b.components.schemas['RID']).to.deep.include({ type: 'string' });
    expect(openapiDocument.paths).to.have.property('/rids/fetch');
    expect(openapiDocument.openapi).to.equal('3.1.0');
  });
});

describe('protocol/spec: the document the node runs on', () => {
  it('equals openapi/koi-net.openapi.yaml (read from its generated JSON copy, not parsed at start)', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const yaml: unknown = parse(readFileSync(new URL('../../../openapi/koi-net.openapi.yaml', import.meta.url), 'utf8'));
    expect(loadOpenapiDocument()).to.deep.equal(yaml);
  });

  it('is valid under the OpenAPI meta-schema (the server skips this check at start: validateApiSpec false)', async () => {
    // The check express-openapi-validator would run at every start, run here once instead.
    const { OpenAPISchemaValidator } = (await import('express-openapi-validator/dist/framework/openapi.schema.validator.js')) as unknown as {
      OpenAPISchemaValidator: new (o: { version: string; validateApiSpec: boolean }) => { validate(doc: unknown): { errors: unknown[] } };
    };
    const validator = new OpenAPISchemaValidator({ version: openapiDocument.openapi, validateApiSpec: true });
    expect(validator.validate(loadOpenapiDocument()).errors).to.deep.equal([]);
    // And it does refuse a broken document, so the empty list above means something.
    const broken = loadOpenapiDocument() as unknown as Record<string, unknown>;
    broken['paths'] = { '/rids/fetch': { post: { responses: 'none' } } };
    expect(validator.validate(broken).errors).to.not.deep.equal([]);
  });
});
