/**
 * The target rule's answers (targets.ts) kept per peer until the graph changes: a coordinator's
 * fan-out asks it for every event times every subscriber, and the answer (which queue, whether the
 * peer is signed) depends only on the graph, which changes when a node or edge bundle does.
 */
import type { KoiNetNode } from '../rid/index.ts';
import type { NetworkGraph } from '../graph/index.ts';
import { chooseQueue, toNodeRid, type QueueKind } from './targets.ts';

/** One peer's answer: its RID and its queue (undefined: neither edge nor profile). */
export interface Route {
  readonly node: KoiNetNode;
  readonly kind: QueueKind | undefined;
}

/** graphology's change events: any of them may change an edge or a profile the rule reads. */
const CHANGES = [
  'nodeAdded',
  'edgeAdded',
  'nodeDropped',
  'edgeDropped',
  'cleared',
  'edgesCleared',
  'nodeAttributesUpdated',
  'edgeAttributesUpdated',
  'eachNodeAttributesUpdated',
  'eachEdgeAttributesUpdated',
] as const;

interface Emitter {
  on(event: string, listener: () => void): unknown;
}

export class RouteCache {
  private readonly routes = new Map<string, Route>();
  /** Undefined until the first lookup; false when the graph gives no change events (nothing is kept then). */
  private watching: boolean | undefined;

  constructor(
    private readonly graph: NetworkGraph,
    private readonly self: KoiNetNode,
  ) {}

  /** The route to `target` (a node RID string); throws as toNodeRid does for anything else. */
  route(target: string): Route {
    const known = this.routes.get(target);
    if (known !== undefined) return known;
    const node = toNodeRid(target);
    const route: Route = { node, kind: chooseQueue(this.graph, this.self, node) };
    if (this.watch()) this.routes.set(target, route);
    return route;
  }

  private watch(): boolean {
    if (this.watching !== undefined) return this.watching;
    // A graph stand-in without graphology's events (a test double) is asked every time.
    const dg = (this.graph as { dg?: unknown }).dg as Partial<Emitter> | undefined;
    if (typeof dg?.on !== 'function') return (this.watching = false);
    const clear = (): void => this.routes.clear();
    for (const name of CHANGES) dg.on(name, clear);
    return (this.watching = true);
  }
}
