/** `protocol: both` through every source, and what a bad value gets. */
import { expect } from 'chai';
import { parseArgs } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFlagOptions, defaultConfig, flagsToOverrides, loadConfig, parseConfigText, renderConfig } from '../../../src/config/index.ts';
import { helpText } from '../../../src/cli/help.ts';
import { NodeInterface } from '../../../src/node.ts';
import { NodeType } from '../../../src/protocol/index.ts';

const DATA = '/tmp/koi-protocol-both-test';

describe('config: protocol both', () => {
  it('is read from the environment, the flag and the file, and listed in --help and the template', async () => {
    expect((await loadConfig(undefined, { env: { KOI_NET_PROTOCOL: 'both' }, overrides: { dataDir: DATA } })).protocol).to.equal('both');
    const { values } = parseArgs({ args: ['--protocol', 'both'], options: configFlagOptions(), strict: true });
    expect((await loadConfig(undefined, { env: {}, overrides: { dataDir: DATA, ...flagsToOverrides(values) } })).protocol).to.equal('both');
    const text = renderConfig({ ...(await loadConfig(undefined, { env: {}, overrides: { dataDir: DATA } })), protocol: 'both' }, '/');
    expect(text).to.match(/both: a bridge/);
    expect({ ...defaultConfig(), ...parseConfigText(text, '/koi-net.yaml') }.protocol).to.equal('both');
    expect(helpText()).to.include('--protocol unsigned|signed|both');
  });

  it('refuses another value, naming the three', async () => {
    let err: unknown;
    try {
      await loadConfig(undefined, { env: { KOI_NET_PROTOCOL: 'bridge' }, overrides: { dataDir: DATA } });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/unsigned.*signed.*both/);
  });

  it('NodeInterface takes it, makes the key, and refuses an unknown mode at construction', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'koi-both-node-'));
    try {
      const profile = { node_type: NodeType.PARTIAL, provides: { event: [], state: [] } };
      expect(() => new NodeInterface({ name: 'x', profile, dataDir: dir, protocol: 'bridge' as never })).to.throw(/'unsigned', 'signed' or 'both'/);
      const node = new NodeInterface({ name: 'bridge', profile, dataDir: dir, protocol: 'both' });
      await node.initialize();
      try {
        expect(String(node.identity.rid)).to.equal(String(node.keyPair!.nodeRid('bridge')));
      } finally {
        await node.finalize();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
