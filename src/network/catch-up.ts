/**
 * Start-up catch-up (koi-net 2.x's sync of `rid_types_of_interest`): while a node was stopped,
 * its providers kept changing state it subscribes to, and their events for that time are gone
 * (webhook queues are the provider's, and a provider forgets a peer it cannot reach). So once the
 * node runs, it asks each FULL node it holds an APPROVED edge from for the manifests of the edge's
 * RID types (those of interest), and takes in what is new or newer than its cache.
 *
 * The reference queues each manifest, so every object costs one bundle request of its own; here
 * the manifests are compared with the cache first (the Manifest handler's rule: different and
 * strictly newer) and the wanted bundles come in batches. Each bundle then goes through the
 * pipeline as external knowledge from that provider, so handlers see it as they see any event.
 * FORGETs cannot be caught up this way (a manifest listing names what exists), as in the reference.
 */
import { KnowledgeSource, type Bundle, type Manifest } from '../knowledge/index.ts';
import { EdgeStatus, NodeType } from '../protocol/index.ts';
import type { KoiNetNode, RID } from '../rid/index.ts';
import type { Logger } from '../logger.ts';
import type { NetworkGraph } from '../graph/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import type { KnowledgeProcessor } from '../processor/index.ts';
import { errorText } from '../util/error-text.ts';
import type { Startable } from '../util/lifecycle.ts';

/** The two requests the catch-up makes; `RequestHandler` fits. */
export interface CatchUpFetcher {
  fetchManifests(target: { node: KoiNetNode }, req: { rid_types: string[] }): Promise<{ manifests: readonly Manifest[] }>;
  fetchBundles(target: { node: KoiNetNode }, req: { rids: RID[] }): Promise<{ bundles: readonly Bundle[] }>;
}

export interface StartupCatchUpOptions {
  /** RID types to catch up on; empty or absent = every type on an approved edge into this node. */
  ridTypes?: readonly string[];
  /** Bundles asked for per request (default 100). */
  batchSize?: number;
  graph: NetworkGraph;
  cache: KnowledgeStore;
  fetcher: CatchUpFetcher;
  processor: Pick<KnowledgeProcessor, 'handle'>;
  /**
   * Whether a bundle from this provider may be taken in (a bridge's rule for unsigned providers,
   * NetworkInterface.takesStateFrom); absent = every bundle asked for.
   */
  takes?: (provider: KoiNetNode, bundle: Bundle) => boolean | Promise<boolean>;
  logger: Logger;
}

/** What one provider gave: manifests listed, bundles taken in (new or newer), or why it gave nothing. */
export interface ProviderCatchUp {
  node: string;
  ridTypes: string[];
  listed: number;
  taken: number;
  error?: string;
}

export class StartupCatchUp implements Startable {
  private readonly o: StartupCatchUpOptions;
  private running: Promise<ProviderCatchUp[]> | undefined;
  private stopped = false;

  constructor(options: StartupCatchUpOptions) {
    this.o = options;
  }

  /** Starts in the background: a slow or dead provider must not hold up the node's start. */
  start(): void {
    this.running = this.run().catch((err: unknown) => {
      this.o.logger.warn({ err: errorText(err) }, 'start-up catch-up failed');
      return [];
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Resolves with each provider's result once the catch-up is over (at once when it never started). */
  done(): Promise<ProviderCatchUp[]> {
    return this.running ?? Promise.resolve([]);
  }

  /** The approved providers of this node and, for each, the RID types to catch up on. */
  providers(): { node: KoiNetNode; ridTypes: string[] }[] {
    const { graph } = this.o;
    const wanted = this.o.ridTypes && this.o.ridTypes.length > 0 ? new Set(this.o.ridTypes.map(String)) : undefined;
    const out: { node: KoiNetNode; ridTypes: string[] }[] = [];
    for (const node of graph.getNeighbors({ direction: 'in', status: EdgeStatus.APPROVED })) {
      const profile = graph.getNodeProfile(node);
      // Only full nodes answer fetches; a partial provider is caught up by polling it.
      if (!profile || profile.node_type !== NodeType.FULL || !profile.base_url) continue;
      const edge = graph.getEdgeProfile({ source: node, target: graph.identityRid });
      if (!edge || edge.status !== EdgeStatus.APPROVED) continue;
      const ridTypes = [...new Set(edge.rid_types.map(String))].filter((t) => wanted === undefined || wanted.has(t));
      if (ridTypes.length > 0) out.push({ node, ridTypes });
    }
    return out;
  }

  async run(): Promise<ProviderCatchUp[]> {
    const results: ProviderCatchUp[] = [];
    for (const provider of this.providers()) {
      if (this.stopped) break;
      results.push(await this.catchUpWith(provider.node, provider.ridTypes));
    }
    if (results.length > 0) {
      this.o.logger.info(
        { providers: results.length, listed: sum(results, 'listed'), taken: sum(results, 'taken'), failed: results.filter((r) => r.error).length },
        'caught up with providers at start',
      );
    }
    return results;
  }

  private async catchUpWith(node: KoiNetNode, ridTypes: string[]): Promise<ProviderCatchUp> {
    const { cache, fetcher, processor, logger } = this.o;
    const result: ProviderCatchUp = { node: node.toString(), ridTypes, listed: 0, taken: 0 };
    try {
      const { manifests } = await fetcher.fetchManifests({ node }, { rid_types: ridTypes });
      result.listed = manifests.length;
      const self = this.o.graph.identityRid.toString();
      // The Manifest handler's rule, applied before asking: only a different and strictly newer state.
      const wanted = manifests.filter((m) => {
        if (m.rid.toString() === self) return false;
        const cached = cache.readManifest(m.rid);
        return cached === undefined || (cached.sha256Hash !== m.sha256Hash && m.timeMicros > cached.timeMicros);
      });
      const batch = Math.max(1, this.o.batchSize ?? 100);
      for (let i = 0; i < wanted.length && !this.stopped; i += batch) {
        const rids = wanted.slice(i, i + batch).map((m) => m.rid);
        const { bundles } = await fetcher.fetchBundles({ node }, { rids });
        const asked = new Set(rids.map(String));
        for (const bundle of bundles) {
          // A confused peer may answer with what was not asked for; it is not taken in.
          if (!asked.has(bundle.rid.toString())) continue;
          if (this.o.takes && !(await this.o.takes(node, bundle))) continue;
          await processor.handle({ bundle, source: KnowledgeSource.EXTERNAL, sourceNode: node });
          result.taken++;
        }
      }
      logger.debug({ ...result }, 'caught up with a provider');
    } catch (err) {
      result.error = errorText(err);
      logger.warn({ node: result.node, ridTypes, err: result.error }, 'start-up catch-up with a provider failed; its events resume as they come');
    }
    return result;
  }
}

function sum(results: ProviderCatchUp[], key: 'listed' | 'taken'): number {
  return results.reduce((n, r) => n + r[key], 0);
}
