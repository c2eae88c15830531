import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import {
  ConfigError,
  defaultConfig,
  effectiveProvides,
  findConfigFile,
  loadConfig,
  mergeConfig,
  parseConfigText,
  resolveBaseUrl,
  writeConfigTemplate,
} from '../../../src/config/index.ts';

async function expectConfigError(p: Promise<unknown>, field: string): Promise<ConfigError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).field).to.equal(field);
    expect((err as Error).message).to.include(`"${field}"`);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${field}`);
}

describe('config', () => {
  let dir: string;
  const noEnv = {};

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koi-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has defaults that validate, with base URL derived from host and port', async () => {
    const c = await loadConfig(undefined, { env: noEnv });
    expect(c.type).to.equal('full');
    expect(c.host).to.equal('127.0.0.1');
    expect(c.port).to.equal(8000);
    expect(c.pollIntervalMs).to.equal(5000);
    expect(c.contact.enabled).to.equal(true);
    expect(c.dataDir).to.equal(resolve('.koi', 'node'));
    expect(resolveBaseUrl(c)).to.equal('http://127.0.0.1:8000/koi-net');
    expect(resolveBaseUrl({ ...c, baseUrl: 'https://example.org/koi-net/' })).to.equal('https://example.org/koi-net');
    expect(resolveBaseUrl({ ...c, host: '0.0.0.0' }, 9001)).to.equal('http://127.0.0.1:9001/koi-net');
    expect(defaultConfig().dataDir).to.equal('');
  });

  it('reads every field of a YAML file; data_dir is relative to the file', async () => {
    const file = join(dir, 'sub', 'node.yaml');
    await writeConfigTemplate(file, {}); // makes sub/
    await writeFile(
      file,
      `name: sensor
type: partial
host: 127.0.0.1
port: 9100
base_url: null
first_contact: http://127.0.0.1:8000/koi-net
provides:
  event: [orn:slack.message]
  state: []
data_dir: ../data
role: none
contact:
  enabled: false
  rid_types: [orn:slack.message]
poll_interval_ms: 250
log: { level: DEBUG, pretty: true }
body_limit: 2mb
request_timeout_ms: 1500
`,
    );
    const c = await loadConfig(file, { env: noEnv });
    expect(c).to.deep.include({
      name: 'sensor',
      type: 'partial',
      port: 9100,
      baseUrl: null,
      firstContact: 'http://127.0.0.1:8000/koi-net',
      dataDir: join(dir, 'data'),
      role: 'none',
      pollIntervalMs: 250,
      bodyLimit: '2mb',
      requestTimeoutMs: 1500,
    });
    expect(c.provides).to.deep.equal({ event: ['orn:slack.message'], state: [] });
    expect(c.contact).to.deep.equal({ enabled: false, ridTypes: ['orn:slack.message'] });
    expect(c.log).to.deep.equal({ level: 'debug', pretty: true });
  });

  it('merges file < environment < overrides, nested fields one by one', async () => {
    const file = join(dir, 'koi-net.yaml');
    await writeFile(file, 'name: fromfile\nport: 8001\nlog:\n  level: warn\n  pretty: true\nprovides:\n  event: [orn:a.b]\n');
    const c = await loadConfig(file, {
      env: { KOI_NET_PORT: '8002', KOI_NET_LOG_LEVEL: 'error', KOI_NET_PROVIDES_STATE: 'orn:c.d, orn:e.f' },
      overrides: { port: 8003, provides: { event: ['orn:x.y'] } },
    });
    expect(c.name).to.equal('fromfile');
    expect(c.port).to.equal(8003);
    expect(c.log).to.deep.equal({ level: 'error', pretty: true });
    expect(c.provides).to.deep.equal({ event: ['orn:x.y'], state: ['orn:c.d', 'orn:e.f'] });
    // Overrides' relative data dirs are relative to the working directory.
    const d = await loadConfig(file, { env: noEnv, overrides: { dataDir: 'rel/dir' } });
    expect(d.dataDir).to.equal(resolve('rel/dir'));
  });

  it('mergeConfig ignores undefined override fields', () => {
    const base = { ...defaultConfig(), name: 'a' };
    const merged = mergeConfig(base, { name: undefined, log: { level: undefined, pretty: true } });
    expect(merged.name).to.equal('a');
    expect(merged.log).to.deep.equal({ level: 'info', pretty: true });
  });

  it('names the field of every invalid value', async () => {
    const cases: [string, string][] = [
      ['prot: 80\n', 'prot'],
      ['port: 70000\n', 'port'],
      ['port: eighty\n', 'port'],
      ['type: half\n', 'type'],
      ['provides:\n  event: [orn:ok.type, "orn:"]\n', 'provides.event[1]'],
      ['provides:\n  events: []\n', 'provides.events'],
      ['log:\n  level: loud\n', 'log.level'],
      ['contact:\n  enabled: maybe\n', 'contact.enabled'],
      ['first_contact: ftp://x\n', 'first_contact'],
      ['base_url: nope\n', 'base_url'],
      ['type: partial\nrole: coordinator\n', 'role'],
      ['type: partial\nprovides:\n  state: [orn:a.b]\n', 'provides.state'],
      ['name: "has space"\n', 'name'],
      ['poll_interval_ms: 0\n', 'poll_interval_ms'],
      ['body_limit: lots\n', 'body_limit'],
      ['- a list\n', '(root)'],
    ];
    for (const [text, field] of cases) {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, text);
      await expectConfigError(loadConfig(file, { env: noEnv }), field);
    }
    await expectConfigError(loadConfig(undefined, { env: { KOI_NET_LOG_LEVEL: 'shout' } }), 'KOI_NET_LOG_LEVEL');
    await expectConfigError(loadConfig(undefined, { env: noEnv, overrides: { port: -1 } }), 'port');
  });

  it('refuses YAML syntax errors and a missing named file with a clear message', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'name: [unclosed\n');
    let err: unknown;
    try {
      await loadConfig(file, { env: noEnv });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/not valid YAML/);
    err = undefined;
    try {
      await loadConfig(join(dir, 'missing.yaml'), { env: noEnv });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/cannot read config file/);
    const c = await loadConfig(join(dir, 'missing.yaml'), { env: noEnv, mustExist: false });
    expect(c.name).to.equal('node');
  });

  it('an empty file is all defaults', async () => {
    const file = join(dir, 'empty.yaml');
    await writeFile(file, '# nothing here\n');
    const c = await loadConfig(file, { env: noEnv });
    expect(c.port).to.equal(8000);
  });

  it('writeConfigTemplate writes a commented file that loads back to the same config', async () => {
    const file = join(dir, 'node', 'koi-net.yaml');
    const written = await writeConfigTemplate(file, {
      name: 'coord',
      role: 'coordinator',
      port: 8123,
      dataDir: join(dir, 'node'),
      provides: { event: ['orn:slack.message'] },
      firstContact: 'http://127.0.0.1:8000/koi-net',
    });
    const text = await readFile(file, 'utf8');
    expect(text).to.match(/^# koi-net node configuration/);
    expect(text).to.include('data_dir: .');
    expect(text.split('\n').filter((l) => l.startsWith('#')).length).to.be.greaterThan(10);
    const loaded = await loadConfig(file, { env: noEnv });
    expect(loaded).to.deep.equal(written);
    let err: unknown;
    try {
      await writeConfigTemplate(file, {});
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/already exists/);
    await writeConfigTemplate(file, { name: 'again' }, { force: true });
    expect((await loadConfig(file, { env: noEnv })).name).to.equal('again');
  });

  it('a coordinator provides node and edge events and state', () => {
    const c = { ...defaultConfig(), role: 'coordinator' as const, provides: { event: ['orn:koi-net.node', 'orn:a.b'], state: [] } };
    expect(effectiveProvides(c)).to.deep.equal({
      event: ['orn:koi-net.node', 'orn:koi-net.edge', 'orn:a.b'],
      state: ['orn:koi-net.node', 'orn:koi-net.edge'],
    });
    expect(effectiveProvides({ ...c, role: 'none' }).state).to.deep.equal([]);
  });

  it('parseConfigText accepts the short form contact: false', () => {
    expect(parseConfigText('contact: false\n').contact).to.deep.equal({ enabled: false });
  });

  it('findConfigFile: flag, then KOI_NET_CONFIG, then <data-dir>/koi-net.yaml, then ./koi-net.yaml', async () => {
    expect(findConfigFile({ flag: 'x.yaml', cwd: dir, env: noEnv })).to.deep.equal({ path: join(dir, 'x.yaml'), explicit: true });
    expect(findConfigFile({ cwd: dir, env: { KOI_NET_CONFIG: 'e.yaml' } })).to.deep.equal({ path: join(dir, 'e.yaml'), explicit: true });
    expect(findConfigFile({ cwd: dir, env: noEnv, dataDir: 'd' })).to.equal(undefined);
    await writeConfigTemplate(join(dir, 'd', 'koi-net.yaml'), { dataDir: join(dir, 'd') });
    expect(findConfigFile({ cwd: dir, env: noEnv, dataDir: 'd' })).to.deep.equal({ path: join(dir, 'd', 'koi-net.yaml'), explicit: false });
    await writeFile(join(dir, 'koi-net.yaml'), '');
    expect(findConfigFile({ cwd: dir, env: noEnv })).to.deep.equal({ path: join(dir, 'koi-net.yaml'), explicit: false });
  });
});
