/**
 * The network graph as an inline SVG, drawn on the server: no script or library is needed to see
 * it, and the status page's refresh simply swaps in the new drawing. Layout: this node in the
 * centre, its neighbours on an inner ring, every other known node on an outer ring, each ring in
 * RID order so nodes keep their places between refreshes.
 */
import { escapeHtml } from './html.ts';
import type { NodeSnapshot, SnapshotNode } from './snapshot.ts';

const WIDTH = 720;
const HEIGHT = 500;
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

const INNER_R = 145;
const OUTER_R = 215;
/** Horizontal stretch: the drawing is wider than tall. */
const STRETCH = 1.45;

function at(angle: number, radius: number): Point {
  return { x: WIDTH / 2 + radius * Math.cos(angle) * STRETCH, y: HEIGHT / 2 + radius * Math.sin(angle) };
}

function layout(graph: NodeSnapshot['graph']): Map<string, Point> {
  const pos = new Map<string, Point>();
  const self = graph.nodes.filter((n) => n.self);
  const inner = graph.nodes.filter((n) => !n.self && n.link !== null);
  const outer = graph.nodes.filter((n) => !n.self && n.link === null);
  for (const n of self) pos.set(n.rid, { x: WIDTH / 2, y: HEIGHT / 2 });
  // With nobody linked to self, the others take the inner ring.
  const first = inner.length > 0 ? inner : outer;
  const angle = new Map<string, number>();
  first.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / first.length;
    angle.set(n.rid, a);
    pos.set(n.rid, at(a, INNER_R));
  });
  if (first === outer) return pos;
  // A node two hops away sits behind the neighbour it is linked to, so its edge does not cross
  // the centre; those linked to no neighbour fill the gaps evenly.
  const anchorOf = new Map<string, number>();
  for (const e of graph.edges) {
    const [a, b] = [angle.get(e.source), angle.get(e.target)];
    if (a !== undefined && !angle.has(e.target) && !anchorOf.has(e.target)) anchorOf.set(e.target, a);
    if (b !== undefined && !angle.has(e.source) && !anchorOf.has(e.source)) anchorOf.set(e.source, b);
  }
  const groups = new Map<number, SnapshotNode[]>();
  const loose: SnapshotNode[] = [];
  for (const n of outer) {
    const a = anchorOf.get(n.rid);
    if (a === undefined) loose.push(n);
    else groups.set(a, [...(groups.get(a) ?? []), n]);
  }
  const slot = (2 * Math.PI) / Math.max(inner.length, 1);
  for (const [a, members] of groups) {
    members.forEach((n, i) => pos.set(n.rid, at(a + ((i + 1) / (members.length + 1) - 0.5) * slot * 0.8, OUTER_R)));
  }
  loose.forEach((n, i) => pos.set(n.rid, at(-Math.PI / 2 + slot / 2 + (2 * Math.PI * i) / loose.length, OUTER_R)));
  return pos;
}

const f = (n: number): string => n.toFixed(1);

/**
 * Edges run radially, so a label goes beside its node along the ring (the tangent), where no edge
 * to the centre or to the outer ring passes. This node's own label sits below and to the right.
 */
function label(p: Point): { x: number; y: number; anchor: string } {
  const vx = p.x - WIDTH / 2;
  const vy = p.y - HEIGHT / 2;
  const len = Math.hypot(vx, vy);
  if (len < 1) return { x: p.x + NODE_R + 4, y: p.y + NODE_R + 10, anchor: 'start' };
  const tx = -vy / len;
  const ty = vx / len;
  const anchor = tx > 0.3 ? 'start' : tx < -0.3 ? 'end' : 'middle';
  return { x: p.x + tx * (NODE_R + 6), y: p.y + ty * (NODE_R + 8) + 4, anchor };
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
    const l = label(p);
    const stroke = n.self ? '#0d47a1' : colourOf(n.link);
    const fill = n.self ? '#1976d2' : n.node_type === null ? '#eeeeee' : '#ffffff';
    const shape =
      n.node_type === 'PARTIAL'
        ? `<rect x="${f(p.x - NODE_R)}" y="${f(p.y - NODE_R)}" width="${NODE_R * 2}" height="${NODE_R * 2}" rx="4" fill="${fill}" stroke="${stroke}" stroke-width="${n.self ? 4 : 2.5}"${n.node_type === null ? ' stroke-dasharray="3 3"' : ''}/>`
        : `<circle cx="${f(p.x)}" cy="${f(p.y)}" r="${NODE_R}" fill="${fill}" stroke="${stroke}" stroke-width="${n.self ? 4 : 2.5}"${n.node_type === null ? ' stroke-dasharray="3 3"' : ''}/>`;
    circles.push(
      `<g class="node${n.self ? ' self' : ''}" data-rid="${escapeHtml(n.rid)}">${shape}` +
        `<text x="${f(l.x)}" y="${f(l.y)}" text-anchor="${l.anchor}">${escapeHtml(shortName(n.rid))}${n.self ? ' (this node)' : ''}</text>` +
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
