/**
 * Real full nodes in this process for the page tests: a coordinator and nodes that contact it,
 * each serving HTTP on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installBehaviours } from '../../src/behaviours/index.ts';
import { startFullNode, type RunningFullNode } from '../../src/full-node.ts';
import { NodeInterface } from '../../src/node.ts';
import { NodeType } from '../../src/protocol/index.ts';
import { candidatePort } from '../helpers/ports.ts';

export interface RunningNode {
  node: NodeInterface;
  server: RunningFullNode;
  /** `http://127.0.0.1:<port>` (no root path). */
  origin: string;
  /** Base URL of the endpoints, `origin + rootPath`. */
  url: string;
  rid: string;
}

export interface StartOptions {
  coordinator?: boolean;
  first?: RunningNode;
  protocol?: 'unsigned' | 'signed' | 'both';
  rootPath?: string;
}


/** Starts and stops nodes under one temporary directory. */
export class TestNetwork {
  private dir: string | undefined;
  private readonly running: RunningNode[] = [];

  async start(name: string, opts: StartOptions = {}): Promise<RunningNode> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'koi-pages-'));
    const rootPath = opts.rootPath ?? '/koi-net';
    // The profile needs its base_url before the server listens, so a port is picked first; if
    // someone takes it meanwhile, try another.
    for (let attempt = 0; ; attempt++) {
      const port = await candidatePort();
      const origin = `http://127.0.0.1:${port}`;
      const url = origin + (rootPath === '/' ? '' : rootPath);
      const provides = opts.coordinator ? ['orn:koi-net.node', 'orn:koi-net.edge'] : [];
      const node = new NodeInterface({
        name,
        protocol: opts.protocol ?? 'unsigned',
        dataDir: join(this.dir, `${name}-${attempt}`),
        profile: { node_type: NodeType.FULL, base_url: url, provides: { event: provides, state: provides } },
        ...(opts.first
          ? { firstContact: opts.first.url, ...(opts.protocol === 'signed' || opts.protocol === 'both' ? { firstContactRid: opts.first.rid } : {}) }
          : {}),
        retryTickMs: 100,
      });
      installBehaviours(node, { coordinator: opts.coordinator === true, contact: opts.coordinator !== true });
      let server: RunningFullNode;
      try {
        server = await startFullNode(node, { host: '127.0.0.1', port, rootPath });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
        throw err;
      }
      const r: RunningNode = { node, server, origin, url, rid: String(node.identity.rid) };
      this.running.push(r);
      return r;
    }
  }

  async stopAll(): Promise<void> {
    for (const r of this.running.splice(0).reverse()) {
      await r.server.close();
      await r.node.finalize();
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
