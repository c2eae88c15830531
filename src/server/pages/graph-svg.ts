/**
 * The network graph as an inline SVG, drawn on the server: no script or library is needed to see
 * it, and the status page's refresh simply swaps in the new drawing. Layout: this node in the
 * centre, its neighbours on an inner ring, every other known node on an outer ring, each ring in
 * RID order so nodes keep their places between refreshes.
 */
import { escapeHtml } from './html.ts';
import type { NodeSnapshot, SnapshotNode } from './snapshot.ts';

const WIDTH = 720;
const HEIGHT = 460;
const NODE_R = 14;

export const STATUS_COLOURS: Readonly<Record<string, string>> = { APPROVED: '#2e7d32', PROPOSED: '#e65100' };
const OTHER_COLOUR = '#757575';

function colourOf(status: string | null): string {
  return (status !== null ? STATUS_COLOURS[status] : undefined) ?? OTHER_COLOUR;
}

/** The `name` of `orn:koi-net.node:name+hash`, or a short form of any other RID. */
export function shortName(rid: string): string {
  const ref = rid.slice(rid.indexOf(':', rid.indexOf(':') + 1) + 1);
  const plus = ref.lastIndexOf('+');
  const name = plus > 0 ? ref.slice(0, plus) : ref;
  return name.length > 18 ? `${name.slice(0, 17)}…` : name;
}

interface Point {
  x: number;
  y: number;
}

function ring(nodes: SnapshotNode[], radius: number, into: Map<string, Point>, phase = 0): void {
  const cx = WIDTH / 2;
  const cy = HEIGHT / 2;
  nodes.forEach((n, i) => {
    const a = phase - Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
    into.set(n.rid, { x: cx + radius * Math.cos(a) * 1.45, y: cy + radius * Math.sin(a) });
  });
}

function layout(graph: NodeSnapshot['graph']): Map<string, Point> {
  const pos = new Map<string, Point>();
  const self = graph.nodes.filter((n) => n.self);
  const inner = graph.nodes.filter((n) => !n.self && n.link !== null);
  const outer = graph.nodes.filter((n) => !n.self && n.link === null);
  for (const n of self) pos.set(n.rid, { x: WIDTH / 2, y: HEIGHT / 2 });
  // With nobody linked to self, the others take the inner ring.
  if (inner.length > 0) {
    ring(inner, 120, pos);
    ring(outer, 195, pos, Math.PI / Math.max(outer.length, 1));
  } else {
    ring(outer, 140, pos);
  }
  return pos;
}

const f = (n: number): string => n.toFixed(1);

/** Labels go on the outer side of a node, away from the edges that run to the centre. */
function labelY(p: Point): number {
  return p.y < HEIGHT / 2 - 1 ? p.y - NODE_R - 6 : p.y + NODE_R + 14;
}

export function renderGraphSvg(graph: NodeSnapshot['graph']): string {
  const pos = layout(graph);
  const pairs = new Set(graph.edges.map((e) => `${e.source}\n${e.target}`));
  const lines: string[] = [];
  for (const e of graph.edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) continue;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy);
    if (len < 1) continue; // a self-loop has no useful straight-line drawing
    const ux = dx / len;
    const uy = dy / len;
    // Edges both ways between two nodes are drawn side by side instead of on top of each other.
    const off = pairs.has(`${e.target}\n${e.source}`) ? 4 : 0;
    const ox = -uy * off;
    const oy = ux * off;
    const marker = e.status in STATUS_COLOURS ? e.status.toLowerCase() : 'other';
    lines.push(
      `<line class="edge" data-rid="${escapeHtml(e.rid)}" data-status="${escapeHtml(e.status)}" ` +
        `x1="${f(a.x + ux * NODE_R + ox)}" y1="${f(a.y + uy * NODE_R + oy)}" x2="${f(b.x - ux * (NODE_R + 3) + ox)}" y2="${f(b.y - uy * (NODE_R + 3) + oy)}" ` +
        `stroke="${colourOf(e.status)}" stroke-width="2"${e.status === 'PROPOSED' ? ' stroke-dasharray="6 4"' : ''} marker-end="url(#arrow-${marker})">` +
        `<title>${escapeHtml(`${shortName(e.source)} → ${shortName(e.target)}: ${e.status} ${e.edge_type}`)}</title></line>`,
    );
  }
  const circles: string[] = [];
  for (const n of graph.nodes) {
    const p = pos.get(n.rid);
    if (!p) continue;
    const stroke = n.self ? '#0d47a1' : colourOf(n.link);
    const fill = n.self ? '#1976d2' : n.node_type === null ? '#eeeeee' : '#ffffff';
    const shape =
      n.node_type === 'PARTIAL'
        ? `<rect x="${f(p.x - NODE_R)}" y="${f(p.y - NODE_R)}" width="${NODE_R * 2}" height="${NODE_R * 2}" rx="4" fill="${fill}" stroke="${stroke}" stroke-width="${n.self ? 4 : 2.5}"${n.node_type === null ? ' stroke-dasharray="3 3"' : ''}/>`
        : `<circle cx="${f(p.x)}" cy="${f(p.y)}" r="${NODE_R}" fill="${fill}" stroke="${stroke}" stroke-width="${n.self ? 4 : 2.5}"${n.node_type === null ? ' stroke-dasharray="3 3"' : ''}/>`;
    circles.push(
      `<g class="node${n.self ? ' self' : ''}" data-rid="${escapeHtml(n.rid)}">${shape}` +
        `<text x="${f(p.x)}" y="${f(labelY(p))}" text-anchor="middle">${escapeHtml(shortName(n.rid))}${n.self ? ' (this node)' : ''}</text>` +
        `<title>${escapeHtml(`${n.rid}${n.node_type ? ` (${n.node_type})` : ' (profile not cached)'}`)}</title></g>`,
    );
  }
  const markers = [...Object.entries(STATUS_COLOURS), ['OTHER', OTHER_COLOUR] as const]
    .map(
      ([status, colour]) =>
        `<marker id="arrow-${status.toLowerCase()}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`,
    )
    .join('');
  const empty = graph.nodes.length === 0 ? `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no nodes known yet</text>` : '';
  return (
    `<svg id="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="network graph this node knows">` +
    `<defs>${markers}</defs>${lines.join('')}${circles.join('')}${empty}</svg>`
  );
}
