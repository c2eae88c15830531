/** The server's header, request and keep-alive timeouts as config fields, KOI_NET_* variables and CLI flags. */
import { expect } from 'chai';
import { ConfigError, defaultConfig, loadConfig, parseConfigText, renderConfig, serverTimeoutsFromConfig } from '../../../src/config/index.ts';
import { flagsToOverrides } from '../../../src/config/index.ts';
import { DEFAULT_SERVER_TIMEOUTS, resolveServerTimeouts } from '../../../src/server/index.ts';

const DATA = { dataDir: '/tmp/koi-timeouts-test' };

describe('config: server timeouts', () => {
  it('defaults match the server defaults, which are documented', () => {
    expect(DEFAULT_SERVER_TIMEOUTS).to.deep.equal({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    expect(serverTimeoutsFromConfig(defaultConfig())).to.deep.equal({ ...DEFAULT_SERVER_TIMEOUTS });
  });

  it('reads them from a file, the environment and flags, later winning', async () => {
    expect(parseConfigText('server_headers_timeout_ms: 1000\nserver_request_timeout_ms: 2000\nserver_keep_alive_timeout_ms: 300\n')).to.deep.equal({
      serverHeadersTimeoutMs: 1000,
      serverRequestTimeoutMs: 2000,
      serverKeepAliveTimeoutMs: 300,
    });
    const env = { KOI_NET_SERVER_HEADERS_TIMEOUT_MS: '1100', KOI_NET_SERVER_REQUEST_TIMEOUT_MS: '2100', KOI_NET_SERVER_KEEP_ALIVE_TIMEOUT_MS: '310' };
    const fromEnv = await loadConfig(undefined, { env, overrides: DATA });
    expect(serverTimeoutsFromConfig(fromEnv)).to.deep.equal({ headersTimeoutMs: 1100, requestTimeoutMs: 2100, keepAliveTimeoutMs: 310 });
    const overrides = flagsToOverrides({ 'server-headers-timeout': '1200', 'server-request-timeout': '2200', 'server-keep-alive-timeout': '320', 'data-dir': DATA.dataDir });
    const fromFlags = await loadConfig(undefined, { env, overrides });
    expect(serverTimeoutsFromConfig(fromFlags)).to.deep.equal({ headersTimeoutMs: 1200, requestTimeoutMs: 2200, keepAliveTimeoutMs: 320 });
  });

  it('refuses zero, non-integers and a headers timeout longer than the request timeout, naming the field', async () => {
    expect(() => parseConfigText('server_headers_timeout_ms: 0')).to.throw(ConfigError, /server_headers_timeout_ms/);
    expect(() => parseConfigText('server_keep_alive_timeout_ms: 1.5')).to.throw(ConfigError, /server_keep_alive_timeout_ms/);
    let caught: unknown;
    try {
      await loadConfig(undefined, { env: {}, overrides: { ...DATA, serverHeadersTimeoutMs: 40_000 } });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect(String(caught)).to.match(/server_headers_timeout_ms.*server_request_timeout_ms/);
  });

  it('the server refuses the same nonsense when given directly', () => {
    expect(resolveServerTimeouts({ keepAliveTimeoutMs: 100 })).to.deep.equal({ ...DEFAULT_SERVER_TIMEOUTS, keepAliveTimeoutMs: 100 });
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 3_600_001]) {
      expect(() => resolveServerTimeouts({ requestTimeoutMs: bad })).to.throw(RangeError);
    }
    expect(() => resolveServerTimeouts({ headersTimeoutMs: 5_000, requestTimeoutMs: 4_000 })).to.throw(RangeError, /headersTimeoutMs/);
  });

  it('writes them, commented, into the config template, which reads back to the same values', () => {
    const text = renderConfig({ ...defaultConfig(), dataDir: '/tmp/x', serverKeepAliveTimeoutMs: 777 });
    expect(text).to.match(/# How long the server waits for slow clients/);
    expect(parseConfigText(text)).to.include({ serverHeadersTimeoutMs: 10_000, serverRequestTimeoutMs: 30_000, serverKeepAliveTimeoutMs: 777 });
  });
});
