/** The first-contact retry cap as a config field, a KOI_NET_* variable, a CLI flag and a template line. */
import { expect } from 'chai';
import { ConfigError, defaultConfig, loadConfig, parseConfigText, renderConfig } from '../../../src/config/index.ts';
import { flagsToOverrides } from '../../../src/config/index.ts';
import { DEFAULT_FIRST_CONTACT_RETRY } from '../../../src/network/first-contact.ts';

const DATA = { dataDir: '/tmp/koi-first-contact-retry-test' };

describe('config: first-contact retry cap', () => {
  it('defaults to the library default and reads file < environment < flag', async () => {
    expect(defaultConfig().firstContactRetryMaxMs).to.equal(DEFAULT_FIRST_CONTACT_RETRY.maxDelayMs);
    expect(parseConfigText('first_contact_retry_max_ms: 5000\n')).to.deep.equal({ firstContactRetryMaxMs: 5000 });
    const env = { KOI_NET_FIRST_CONTACT_RETRY_MAX_MS: '6000' };
    expect((await loadConfig(undefined, { env, overrides: DATA })).firstContactRetryMaxMs).to.equal(6000);
    const overrides = flagsToOverrides({ 'first-contact-retry-max': '7000', 'data-dir': DATA.dataDir });
    expect((await loadConfig(undefined, { env, overrides })).firstContactRetryMaxMs).to.equal(7000);
  });

  it('refuses zero and non-integers, naming the field or variable', async () => {
    expect(() => parseConfigText('first_contact_retry_max_ms: 0')).to.throw(ConfigError, /first_contact_retry_max_ms/);
    const err = await loadConfig(undefined, { env: { KOI_NET_FIRST_CONTACT_RETRY_MAX_MS: '1.5' }, overrides: DATA }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect(String(err)).to.match(/KOI_NET_FIRST_CONTACT_RETRY_MAX_MS/);
  });

  it('is written, commented, into the config template and reads back', () => {
    const text = renderConfig({ ...defaultConfig(), dataDir: '/tmp/x', firstContactRetryMaxMs: 4321 });
    expect(text).to.match(/retries its first-contact handshake/);
    expect(parseConfigText(text)).to.include({ firstContactRetryMaxMs: 4321 });
  });
});
