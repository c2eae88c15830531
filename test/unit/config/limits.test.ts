/** The server's request limits as config fields, KOI_NET_* variables and CLI flags. */
import { expect } from 'chai';
import { ConfigError, defaultConfig, loadConfig, parseConfigText, renderConfig, serverLimitsFromConfig } from '../../../src/config/index.ts';
import { flagsToOverrides } from '../../../src/config/index.ts';
import { DEFAULT_SERVER_LIMITS } from '../../../src/server/index.ts';

describe('config: server request limits', () => {
  it('defaults match the server defaults', () => {
    expect(serverLimitsFromConfig(defaultConfig())).to.deep.equal({ ...DEFAULT_SERVER_LIMITS });
  });

  it('reads them from a file, the environment and flags, later winning', async () => {
    expect(parseConfigText('max_events_per_broadcast: 10\nmax_rids_per_fetch: 20\nmax_events_per_poll: 30\n')).to.deep.equal({
      maxEventsPerBroadcast: 10,
      maxRidsPerFetch: 20,
      maxEventsPerPoll: 30,
    });
    const env = { KOI_NET_MAX_EVENTS_PER_BROADCAST: '11', KOI_NET_MAX_RIDS_PER_FETCH: '21', KOI_NET_MAX_EVENTS_PER_POLL: '31' };
    const fromEnv = await loadConfig(undefined, { env, overrides: { dataDir: '/tmp/koi-limits-test' } });
    expect(serverLimitsFromConfig(fromEnv)).to.deep.equal({ maxEventsPerBroadcast: 11, maxRidsPerFetch: 21, maxEventsPerPoll: 31 });
    const overrides = flagsToOverrides({ 'max-events-per-broadcast': '12', 'max-rids-per-fetch': '22', 'max-events-per-poll': '32', 'data-dir': '/tmp/koi-limits-test' });
    const fromFlags = await loadConfig(undefined, { env, overrides });
    expect(serverLimitsFromConfig(fromFlags)).to.deep.equal({ maxEventsPerBroadcast: 12, maxRidsPerFetch: 22, maxEventsPerPoll: 32 });
  });

  it('refuses zero, negatives and non-integers, naming the field', async () => {
    expect(() => parseConfigText('max_events_per_broadcast: 0')).to.throw(ConfigError, /max_events_per_broadcast/);
    expect(() => parseConfigText('max_rids_per_fetch: -5')).to.throw(ConfigError, /max_rids_per_fetch/);
    expect(() => parseConfigText('max_events_per_poll: 1.5')).to.throw(ConfigError, /max_events_per_poll/);
    let caught: unknown;
    try {
      await loadConfig(undefined, { env: { KOI_NET_MAX_EVENTS_PER_POLL: 'lots' }, overrides: { dataDir: '/tmp/koi-limits-test' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
  });

  it('writes them, commented, into the config template, which reads back to the same values', () => {
    const c = { ...defaultConfig(), dataDir: '/tmp/x', maxEventsPerPoll: 77 };
    const text = renderConfig(c);
    expect(text).to.match(/# Most events in one \/events\/poll answer/);
    expect(parseConfigText(text)).to.include({ maxEventsPerBroadcast: 1000, maxRidsPerFetch: 10_000, maxEventsPerPoll: 77 });
  });
});
