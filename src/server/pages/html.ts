/**
 * The HTML of the docs and status pages. Every value that comes from the node or the network (RIDs
 * are user data) goes through escapeHtml; the pages load scripts and styles only from this node
 * (the CSP in ./index.ts enforces it), all by URLs relative to the page so any root path works.
 */
import { renderGraphSvg, shortName, STATUS_COLOURS } from './graph-svg.ts';
import type { NodeSnapshot, PeerState, WireProtocol } from './snapshot.ts';

const WIRE_FORMATS: Readonly<Record<WireProtocol, string>> = {
  unsigned: 'koi-net 1.0.x bodies',
  signed: 'koi-net 1.1+ envelopes',
  both: 'koi-net 1.0.x bodies and 1.1+ envelopes, per peer',
};

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Seconds between two refreshes of the status page (the script and the no-script fallback). */
export const STATUS_REFRESH_S = 3;

function head(title: string, extra = ''): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><link rel="icon" href="assets/favicon-32x32.png">${extra}</head>`
  );
}

export function renderDocsPage(nodeLabel: string): string {
  return (
    head(`KOI-net API · ${nodeLabel}`, `<link rel="stylesheet" href="assets/swagger-ui.css"><link rel="stylesheet" href="assets/pages.css">`) +
    `<body class="docs"><nav class="bar"><strong>KOI-net API</strong> · ${escapeHtml(nodeLabel)} · <a href="status">status</a> · <a href="health">health</a> · <a href="openapi.json">openapi.json</a></nav>` +
    `<div id="swagger-ui" data-spec-url="openapi.json"></div>` +
    `<script src="assets/swagger-ui-bundle.js"></script><script src="assets/docs.js"></script></body></html>`
  );
}

export function renderStatusPage(s: NodeSnapshot): string {
  const label = s.health.rid ? shortName(s.health.rid) : 'starting';
  return (
    head(`KOI-net node · ${label}`, `<link rel="stylesheet" href="assets/pages.css"><noscript><meta http-equiv="refresh" content="${STATUS_REFRESH_S}"></noscript>`) +
    `<body class="status" data-refresh-s="${STATUS_REFRESH_S}">` +
    `<nav class="bar"><strong>KOI-net node</strong> · <a href="docs">API docs</a> · <a href="health">health</a> · <a href="status.json">status.json</a>` +
    ` <span id="refresh-state" class="muted"></span></nav>` +
    renderStatusMain(s) +
    `<script src="assets/status.js"></script></body></html>`
  );
}

/** The part the page's script replaces on each refresh. */
export function renderStatusMain(s: NodeSnapshot): string {
  const h = s.health;
  const identity =
    `<section><h2>Identity</h2><dl class="kv">` +
    `<dt>RID</dt><dd><code id="self-rid">${escapeHtml(h.rid ?? '(not initialized yet)')}</code></dd>` +
    `<dt>Node type</dt><dd>${escapeHtml(h.node_type ?? '-')}</dd>` +
    `<dt>Health</dt><dd><span class="badge badge-${escapeHtml(h.status)}">${escapeHtml(h.status)}</span>` +
    ` store ${escapeHtml(h.store.status)}${h.store.pending_writes !== undefined ? `, ${h.store.pending_writes} writes pending` : ''}` +
    `${h.store.last_error ? `, last error: ${escapeHtml(h.store.last_error)}` : ''}</dd>` +
    `<dt>Protocol</dt><dd>${escapeHtml(h.protocol)} (${WIRE_FORMATS[h.protocol]})</dd>` +
    `<dt>Uptime</dt><dd>${escapeHtml(formatUptime(h.uptime_s))}</dd>` +
    `<dt>Version</dt><dd>koi-net ${escapeHtml(h.version)}</dd></dl></section>`;

  const legend =
    `<p class="legend">` +
    Object.keys(STATUS_COLOURS)
      .map((status) => `<span><i class="swatch-${status.toLowerCase()}"></i>${status}</span>`)
      .join('') +
    `<span><i class="self"></i>this node</span><span>○ FULL · ▢ PARTIAL · dashed outline: profile not cached</span></p>`;
  const drawing =
    `<section><h2>Network graph</h2>${renderGraphSvg(s.graph)}${legend}` +
    `${s.graph.truncated ? `<p class="muted">Large graph: the drawing and the edge list are cut to this node's edges first.</p>` : ''}</section>`;

  const neighbours = table(
    'Neighbours',
    ['RID', 'Node type', 'Edge with this node'],
    s.neighbours.map((n) => [code(n.rid), escapeHtml(n.node_type ?? 'unknown'), statusCell(n.link ?? '-')]),
    'No edges with other nodes yet.',
  );
  const edges = table(
    `Edges (${s.graph.edges.length})`,
    ['Source', 'Target', 'Status', 'Type', 'RID types', 'Edge RID'],
    s.graph.edges.map((e) => [
      code(e.source, shortName(e.source)),
      code(e.target, shortName(e.target)),
      statusCell(e.status),
      escapeHtml(e.edge_type),
      e.rid_types.map((t) => code(t)).join(' '),
      code(e.rid, `…${e.rid.slice(-12)}`),
    ]),
    'No edges known.',
  );
  const peers = table(
    'Queues and delivery per peer',
    ['Peer', 'Webhook queued', 'In flight', 'Poll queued', 'Dropped', 'Deliveries (events)', 'Failures', 'State'],
    s.peers.map((p) => [
      code(p.rid, shortName(p.rid)),
      num(p.webhook_queued),
      num(p.webhook_inflight),
      num(p.poll_queued),
      num(p.dropped),
      `${num(p.deliveries)} (${num(p.delivered_events)})`,
      num(p.failures),
      deliveryState(p),
    ]),
    'No queues and no deliveries yet.',
  );
  const cache = table(
    `Cache (${s.cache.total} bundles)`,
    ['RID type', 'Bundles'],
    Object.entries(s.cache.by_type).map(([type, n]) => [code(type), num(n)]),
    'The cache is empty.',
  );
  return (
    `<main id="status" data-generated-at="${escapeHtml(s.generated_at)}">${identity}${drawing}${neighbours}${edges}${peers}${cache}` +
    `<p class="muted">Updated ${escapeHtml(s.generated_at)}; refreshes every ${STATUS_REFRESH_S} s.</p></main>`
  );
}

function table(title: string, headers: string[], rows: string[][], empty: string): string {
  const body = rows.length === 0 ? `<p class="muted">${escapeHtml(empty)}</p>` : `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  return `<section><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

/** A RID in code style; `shown` abbreviates it, the full RID stays in the tooltip. */
function code(value: string, shown?: string): string {
  return shown === undefined ? `<code>${escapeHtml(value)}</code>` : `<code title="${escapeHtml(value)}">${escapeHtml(shown)}</code>`;
}

function num(n: number): string {
  return escapeHtml(n.toLocaleString('en-US'));
}

function statusCell(status: string): string {
  return `<span class="status-${escapeHtml(status.toLowerCase())}">${escapeHtml(status)}</span>`;
}

function deliveryState(p: PeerState): string {
  if (p.consecutive_failures === 0) return `<span class="ok">ok</span>`;
  const retry = p.retry_in_ms > 0 ? `, retry in ${Math.ceil(p.retry_in_ms / 1000)} s` : '';
  const error = p.last_error ? `: ${escapeHtml(p.last_error)}` : '';
  return `<span class="failing">failing ×${p.consecutive_failures}${retry}</span>${error}`;
}

function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d > 0 ? `${d} d ` : ''}${h > 0 || d > 0 ? `${h} h ` : ''}${m} min ${s % 60} s`;
}
