import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeIdentity } from '../../../src/identity/index.ts';
import { KoiNetError, SchemaValidationError } from '../../../src/errors.ts';
import { KoiNetNode } from '../../../src/rid/index.ts';
import { collectingLogger, type LogLine } from '../../helpers/logger.ts';
import type { NodeProfile } from '../../../src/protocol/index.ts';

const partial: NodeProfile = { node_type: 'PARTIAL', provides: { event: [], state: [] } };
const full: NodeProfile = {
  base_url: 'http://127.0.0.1:8000/koi-net',
  node_type: 'FULL',
  provides: { event: ['orn:my.thing'], state: ['orn:my.thing'] },
};

describe('NodeIdentity', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-identity-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates orn:koi-net.node:<name>+<uuid4> on first start and writes {rid, profile}', async () => {
    const filePath = join(dir, 'identity.json');
    const id = await NodeIdentity.load({ name: 'sensor', profile: partial, filePath });
    expect(id.rid).to.be.instanceOf(KoiNetNode);
    expect(String(id.rid)).to.match(/^orn:koi-net\.node:sensor\+[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const onDisk = JSON.parse(await readFile(filePath, 'utf8')) as { rid: string; profile: NodeProfile };
    expect(onDisk.rid).to.equal(String(id.rid));
    expect(onDisk.profile).to.deep.equal({ node_type: 'PARTIAL', provides: { event: [], state: [] } });
  });

  it('keeps the RID across restarts and saves a changed profile', async () => {
    const filePath = join(dir, 'identity.json');
    const first = await NodeIdentity.load({ name: 'proc', profile: partial, filePath });
    const second = await NodeIdentity.load({ name: 'proc', profile: full, filePath });
    expect(String(second.rid)).to.equal(String(first.rid));
    expect(second.profile.node_type).to.equal('FULL');
    const onDisk = JSON.parse(await readFile(filePath, 'utf8')) as { rid: string; profile: NodeProfile };
    expect(onDisk.rid).to.equal(String(first.rid));
    expect(onDisk.profile.base_url).to.equal('http://127.0.0.1:8000/koi-net');
  });

  it('warns about a changed name and keeps the existing RID', async () => {
    const filePath = join(dir, 'identity.json');
    const first = await NodeIdentity.load({ name: 'old', profile: partial, filePath });
    const lines: LogLine[] = [];
    const second = await NodeIdentity.load({ name: 'new', profile: partial, filePath, logger: collectingLogger(lines) });
    expect(String(second.rid)).to.equal(String(first.rid));
    expect(second.rid.name).to.equal('old');
    const warning = lines.find((l) => l.level === 'warn');
    expect(warning?.msg).to.match(/name differs/);
  });

  it('bundle holds the profile and is stable within a run', async () => {
    const id = await NodeIdentity.load({ name: 'b', profile: full, filePath: join(dir, 'i.json') });
    const bundle = id.bundle;
    expect(String(bundle.rid)).to.equal(String(id.rid));
    expect(bundle.contents).to.deep.equal(full);
    expect(id.bundle).to.equal(bundle);
  });

  it('refuses an invalid profile and a corrupt or foreign identity file with typed errors', async () => {
    const filePath = join(dir, 'identity.json');
    let err: unknown;
    try {
      await NodeIdentity.load({ name: 'x', profile: { node_type: 'MAYBE' } as unknown as NodeProfile, filePath });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(SchemaValidationError);

    await writeFile(filePath, '{not json');
    err = undefined;
    try {
      await NodeIdentity.load({ name: 'x', profile: partial, filePath });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(KoiNetError);
    expect((err as KoiNetError).code).to.equal('invalid_identity');

    await writeFile(filePath, JSON.stringify({ rid: 'orn:koi-net.edge:abc', profile: partial }));
    err = undefined;
    try {
      await NodeIdentity.load({ name: 'x', profile: partial, filePath });
    } catch (e) {
      err = e;
    }
    expect((err as KoiNetError).code).to.equal('invalid_identity');
    expect((err as Error).message).to.include('orn:koi-net.edge:abc');
  });
});
