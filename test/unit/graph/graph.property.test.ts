import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { Bundle, type JsonObject } from '../../../src/knowledge/index.ts';
import { Cache } from '../../../src/cache/index.ts';
import { NetworkGraph } from '../../../src/graph/index.ts';
import { edgeContents, edgeRid, nodeContents, nodeRid } from './fixtures/graph-helpers.ts';

/**
 * The incremental graph (applyWrite/applyDelete mirroring every cache change) must equal a graph
 * freshly generated from the same cache, after every step of any sequence of changes.
 */

const NODES = Array.from({ length: 5 }, (_, i) => nodeRid(`p${i}`, i + 1));
const EDGES = Array.from({ length: 6 }, (_, i) => edgeRid(i + 1));
// Few distinct times, so that ties between edges of one pair happen often.
const TIMES = [0, 1, 2].map((i) => new Date(Date.UTC(2025, 0, 1, 0, 0, i)));

type Command =
  | { op: 'writeNode'; node: number; valid: boolean; partial: boolean }
  | { op: 'deleteNode'; node: number }
  | {
      op: 'writeEdge';
      edge: number;
      source: number;
      target: number;
      status: 'PROPOSED' | 'APPROVED';
      ridTypes: string[];
      time: number;
      variant: 'valid' | 'garbage' | 'nonNodeEndpoint';
    }
  | { op: 'deleteEdge'; edge: number };

const idx = (n: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: n - 1 });

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('writeNode' as const), node: idx(NODES.length), valid: fc.constantFrom(true, true, true, false), partial: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteNode' as const), node: idx(NODES.length) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('writeEdge' as const),
      edge: idx(EDGES.length),
      source: idx(NODES.length),
      target: idx(NODES.length),
      status: fc.constantFrom('PROPOSED' as const, 'APPROVED' as const),
      ridTypes: fc.subarray(['orn:koi-net.node', 'orn:koi-net.edge', 'orn:slack.message']),
      time: idx(TIMES.length),
      variant: fc.constantFrom('valid' as const, 'valid' as const, 'valid' as const, 'valid' as const, 'garbage' as const, 'nonNodeEndpoint' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteEdge' as const), edge: idx(EDGES.length) }) },
);

function bundleFor(cmd: Command): Bundle | undefined {
  switch (cmd.op) {
    case 'writeNode': {
      const contents: JsonObject = cmd.valid ? nodeContents(cmd.partial ? 'PARTIAL' : 'FULL') : { node_type: 'BROKEN' };
      return Bundle.generate(NODES[cmd.node]!, contents);
    }
    case 'writeEdge': {
      let contents: JsonObject;
      if (cmd.variant === 'garbage') contents = { source: String(NODES[cmd.source]) };
      else {
        const source = cmd.variant === 'nonNodeEndpoint' ? 'https://example.com/not-a-node' : NODES[cmd.source]!;
        contents = edgeContents(source, NODES[cmd.target]!, { status: cmd.status, ridTypes: cmd.ridTypes });
      }
      return Bundle.generate(EDGES[cmd.edge]!, contents, TIMES[cmd.time]);
    }
    default:
      return undefined;
  }
}

describe('network/graph: incremental updates equal generate() (property)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'koi-graph-prop-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('after every step of random node/edge writes and deletes', async function () {
    this.timeout(120_000);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: NODES.length - 1 }), async (commands, meIndex) => {
        const dir = join(root, `run-${run++}`);
        const quiet = { logger: { warn: () => {} } };
        const cache = await Cache.open(dir, quiet);
        const me = NODES[meIndex]!;
        const incremental = new NetworkGraph(cache, me);
        await incremental.generate();
        for (const cmd of commands) {
          const bundle = bundleFor(cmd);
          if (bundle) {
            await cache.write(bundle);
            incremental.applyWrite(bundle);
          } else {
            const rid = cmd.op === 'deleteNode' ? NODES[cmd.node]! : EDGES[(cmd as { edge: number }).edge]!;
            await cache.delete(rid);
            incremental.applyDelete(rid);
          }
          // A reopened cache lists RIDs in directory order, not write order: the graph must not
          // depend on the order bundles arrive in.
          const fresh = new NetworkGraph(await Cache.open(dir, quiet), me);
          await fresh.generate();
          expect(incremental.toJSON()).to.deep.equal(fresh.toJSON());
          // The queries agree too, not only the snapshot.
          expect(incremental.getEdges().map(String).sort()).to.deep.equal(fresh.getEdges().map(String).sort());
          expect(incremental.getNeighbors({ status: 'APPROVED' }).map(String).sort()).to.deep.equal(
            fresh.getNeighbors({ status: 'APPROVED' }).map(String).sort(),
          );
        }
        await cache.drop();
      }),
      { numRuns: 60 },
    );
  });
});
