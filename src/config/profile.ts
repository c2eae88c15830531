import { NodeType, type NodeProfile } from '../protocol/index.ts';
import type { KoiNetConfig } from './schema.ts';

/** The base URL this node announces in its profile. */
export function resolveBaseUrl(c: Pick<KoiNetConfig, 'baseUrl' | 'host' | 'port'>, port = c.port): string {
  if (c.baseUrl) return c.baseUrl.replace(/\/+$/, '');
  // Listening on every interface says nothing about how peers reach us; loopback is the honest default.
  const host = c.host === '0.0.0.0' || c.host === '::' ? '127.0.0.1' : c.host;
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/koi-net`;
}

/** Event and state RID types after the role is applied: a coordinator provides node and edge. */
export function effectiveProvides(c: KoiNetConfig): { event: string[]; state: string[] } {
  const uniq = (xs: string[]): string[] => [...new Set(xs)];
  if (c.role !== 'coordinator') return { event: uniq(c.provides.event), state: uniq(c.provides.state) };
  const coord = ['orn:koi-net.node', 'orn:koi-net.edge'];
  return { event: uniq([...coord, ...c.provides.event]), state: uniq([...coord, ...c.provides.state]) };
}

/** The profile a config describes; `port` is the one actually bound (it matters for port 0). */
export function profileFromConfig(config: KoiNetConfig, port = config.port): NodeProfile {
  const provides = effectiveProvides(config);
  if (config.type === 'partial') {
    return { node_type: NodeType.PARTIAL, base_url: null, provides: { event: provides.event, state: [] } } as NodeProfile;
  }
  return { node_type: NodeType.FULL, base_url: resolveBaseUrl(config, port), provides } as NodeProfile;
}
