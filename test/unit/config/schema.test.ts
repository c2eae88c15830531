/** One schema drives every source: each field's variable, flag, --help line and template line work. */
import { expect } from 'chai';
import { parseArgs } from 'node:util';
import {
  FIELDS,
  configFlagOptions,
  defaultConfig,
  flagsToOverrides,
  loadConfig,
  parseConfigText,
  renderConfig,
  type KoiNetConfig,
} from '../../../src/config/index.ts';
import { helpText } from '../../../src/cli/help.ts';

type Spec = (typeof FIELDS)[keyof typeof FIELDS];
const entries = Object.entries(FIELDS) as [string, Spec][];
const DATA = '/tmp/koi-schema-test';

/** A valid value other than the default, for any field. */
function sample(path: string, spec: Spec): unknown {
  const d: unknown = spec.default;
  if (typeof d === 'number') return d + 1;
  if (typeof d === 'boolean') return !d;
  if (Array.isArray(d)) return ['orn:test.thing', 'orn:test.other'];
  if (path === 'profileContext') return false;
  if (d === null && path === 'store') return 'postgres://koi@127.0.0.1:5432/koi';
  if (d === null) return path === 'firstContactRid' ? 'orn:koi-net.node:a+00000000-0000-4000-8000-000000000001' : 'http://127.0.0.1:9/koi-net';
  const strings: Record<string, string> = { name: 'other', type: 'partial', host: '0.0.0.0', protocol: 'signed', dataDir: '/tmp/koi-schema-other', role: 'coordinator', 'log.level': 'debug', bodyLimit: '2mb' };
  return strings[path];
}

function at(c: KoiNetConfig, path: string): unknown {
  const [a, b] = path.split('.') as [keyof KoiNetConfig, string | undefined];
  return b === undefined ? c[a] : (c[a] as unknown as Record<string, unknown>)[b];
}

describe('config: the schema drives file, environment, flags, --help and the template', () => {
  it('declares each variable, flag and file key once', () => {
    const envs = entries.map(([, s]) => s.env).filter((e) => e !== null);
    const flags = entries.flatMap(([, s]) => (s.flag ? [s.flag.name, ...('negation' in s.flag && s.flag.negation ? [s.flag.negation] : [])] : []));
    const keys = entries.map(([p, s]) => (p.includes('.') ? `${p.split('.')[0]}.${s.yaml}` : s.yaml));
    for (const list of [envs, flags, keys]) expect(new Set(list).size).to.equal(list.length);
    for (const e of envs) expect(e).to.match(/^KOI_NET_[A-Z_]+$/);
  });

  for (const [path, spec] of entries) {
    it(`${path}: variable, flag, --help and template`, async () => {
      const value = sample(path, spec);
      expect(value, 'a sample value').not.to.equal(undefined);
      // Each field alone, over a fixed data directory (unless that is the field under test).
      const base = path === 'dataDir' ? {} : { dataDir: DATA };
      if (spec.env) {
        const text = Array.isArray(value) ? value.join(',') : String(value);
        const c = await loadConfig(undefined, { env: { [spec.env]: text }, overrides: base });
        expect(at(c, path), spec.env).to.deep.equal(value);
      }
      if (spec.flag) {
        const args =
          typeof value === 'boolean'
            ? [`--${value ? spec.flag.name : (spec.flag as { negation: string }).negation}`]
            : (Array.isArray(value) ? value : [value]).flatMap((v) => [`--${spec.flag!.name}`, String(v)]);
        const { values } = parseArgs({ args, options: configFlagOptions(), strict: true });
        const c = await loadConfig(undefined, { env: {}, overrides: { ...base, ...flagsToOverrides(values) } });
        expect(at(c, path), `--${spec.flag.name}`).to.deep.equal(value);
        expect(helpText()).to.include(`--${spec.flag.name}`);
      }
      // The template writes the field and reads back to the same value.
      const changed = await loadConfig(undefined, { env: {}, overrides: { dataDir: DATA } });
      const [a, b] = path.split('.') as [keyof KoiNetConfig, string | undefined];
      const edited = b === undefined ? { ...changed, [a]: value } : { ...changed, [a]: { ...(changed[a] as object), [b]: value } };
      if (path === 'type') (edited as KoiNetConfig).provides = { event: [], state: [] };
      const back = parseConfigText(renderConfig(edited as KoiNetConfig, '/'), '/koi-net.yaml');
      const merged = { ...defaultConfig(), ...back } as KoiNetConfig;
      expect(at(merged, path), 'template round trip').to.deep.equal(value);
    });
  }
});
