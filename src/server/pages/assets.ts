/**
 * Files the pages load, all served by the node itself (nodes run offline: no CDN, no web fonts).
 * Our own CSS and scripts live here as strings so a TypeScript build carries them; the API viewer
 * (swagger-ui-dist) is read from its installed package. Only the names listed here are served, so
 * no request path ever reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { STATUS_COLOURS } from './graph-svg.ts';

export interface Asset {
  type: string;
  body: () => Promise<Buffer>;
}

const PAGES_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#212121;background:#fafafa}
.bar{padding:8px 16px;background:#263238;color:#eceff1}
.bar a{color:#80cbc4}
.docs .bar{font-size:14px}
main{max-width:1100px;margin:0 auto;padding:8px 16px 32px}
h2{font-size:17px;margin:20px 0 8px;border-bottom:1px solid #cfd8dc;padding-bottom:4px}
code{font:12px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
.kv dt{font-weight:600;color:#455a64}.kv dd{margin:0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eceff1;font-weight:600}
.muted{color:#78909c}
.badge{display:inline-block;padding:0 8px;border-radius:9px;color:#fff;background:#757575}
.badge-ok{background:#2e7d32}.badge-degraded{background:#c62828}.badge-starting{background:#f9a825}
.ok{color:#2e7d32}.failing{color:#c62828;font-weight:600}
.status-approved{color:${STATUS_COLOURS['APPROVED']};font-weight:600}.status-proposed{color:${STATUS_COLOURS['PROPOSED']};font-weight:600}
#graph{width:100%;max-height:480px;background:#fff;border:1px solid #e0e0e0}
#graph text{font:11px system-ui,sans-serif;fill:#37474f}
.legend span{margin-right:16px}
.legend i{display:inline-block;width:18px;height:4px;margin-right:6px;vertical-align:middle}
.legend i.swatch-approved{background:${STATUS_COLOURS['APPROVED']}}.legend i.swatch-proposed{background:${STATUS_COLOURS['PROPOSED']}}
.legend i.self{width:12px;height:12px;border-radius:6px;background:#1976d2}
`;

/**
 * Refresh without reloading: fetch this same page, swap in its <main>. The server renders one
 * HTML form only, so the page and the script never disagree about what a value means.
 */
const STATUS_JS = `(() => {
  'use strict';
  const seconds = Number(document.body.dataset.refreshS) || 3;
  const state = document.getElementById('refresh-state');
  async function refresh() {
    try {
      const res = await fetch(location.pathname, { cache: 'no-store', headers: { accept: 'text/html' } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const next = doc.getElementById('status');
      const current = document.getElementById('status');
      if (next && current) current.replaceWith(document.adoptNode(next));
      state.textContent = '';
    } catch (err) {
      state.textContent = '· refresh failed (' + (err && err.message ? err.message : err) + '), retrying';
    } finally {
      setTimeout(refresh, seconds * 1000);
    }
  }
  setTimeout(refresh, seconds * 1000);
})();
`;

/** validatorUrl: null, or Swagger UI would send the document to an online validator. */
const DOCS_JS = `(() => {
  'use strict';
  const el = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: new URL(el.dataset.specUrl, location.href).href,
    domNode: el,
    validatorUrl: null,
    deepLinking: true,
    displayOperationId: true,
    defaultModelsExpandDepth: 1,
    defaultModelExpandDepth: 2,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
`;

const text = (value: string): (() => Promise<Buffer>) => {
  const bytes = Buffer.from(value, 'utf8');
  return () => Promise.resolve(bytes);
};

let viewerDir: string | undefined;
/** Where swagger-ui-dist is installed; resolved on first use so a missing package fails one page, not the node. */
function swaggerUiDir(): string {
  viewerDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return viewerDir;
}

/** Read once, then kept: the bundle is 1.7 MB and never changes while the process runs. */
function packaged(file: string): () => Promise<Buffer> {
  let cached: Promise<Buffer> | undefined;
  return () => {
    cached ??= readFile(join(swaggerUiDir(), file)).catch((err: unknown) => {
      cached = undefined;
      throw err;
    });
    return cached;
  };
}

export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['pages.css', { type: 'text/css; charset=utf-8', body: text(PAGES_CSS) }],
  ['status.js', { type: 'text/javascript; charset=utf-8', body: text(STATUS_JS) }],
  ['docs.js', { type: 'text/javascript; charset=utf-8', body: text(DOCS_JS) }],
  ['swagger-ui.css', { type: 'text/css; charset=utf-8', body: packaged('swagger-ui.css') }],
  ['swagger-ui-bundle.js', { type: 'text/javascript; charset=utf-8', body: packaged('swagger-ui-bundle.js') }],
  ['favicon-32x32.png', { type: 'image/png', body: packaged('favicon-32x32.png') }],
]);
