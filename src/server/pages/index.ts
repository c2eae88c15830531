/**
 * Pages a person can look at, served by every full node next to the five endpoints:
 * - GET {root}/docs        interactive reference of the node's OpenAPI document (Swagger UI)
 * - GET {root}/health      JSON HealthReport (200 when ok, 503 when degraded or starting)
 * - GET {root}/status      HTML status page with a drawing of the graph; refreshes itself
 * - GET {root}/status.json the same facts as JSON (NodeSnapshot)
 * - GET /                  redirects to {root}/status
 * Pages show RIDs, node types, edge status/type and counts only, never bundle contents.
 */
import type { Express, RequestHandler, Response } from 'express';
import { loadExpress } from '../express-loader.ts';
import type { Logger } from '../../logger.ts';
import { ASSETS } from './assets.ts';
import { renderDocsPage, renderStatusPage } from './html.ts';
import { shortName } from './graph-svg.ts';
import { healthOf, snapshotOf, type PagesNode, type SnapshotSource } from './snapshot.ts';

export type { HealthReport, HealthStatus, NodeSnapshot, PagesNode, WireProtocol } from './snapshot.ts';
export { escapeHtml } from './html.ts';

export interface PagesOptions {
  /** The endpoints' prefix (default `/koi-net`); the pages live beside them. */
  rootPath: string;
  logger?: Logger;
}

/**
 * Only this node: scripts, styles, images and fetches from the page's own origin. Swagger UI
 * sets style attributes, hence 'unsafe-inline' for styles (never for scripts).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type Page = 'docs' | 'health' | 'status' | 'status.json';
const PAGES: readonly Page[] = ['docs', 'health', 'status', 'status.json'];

function normalizeRoot(root: string): string {
  let r = root.trim();
  if (r === '' || r === '/') return '';
  if (!r.startsWith('/')) r = `/${r}`;
  return r.replace(/\/+$/, '');
}

function problem(res: Response, status: number, detail: string, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(status).json({ detail });
}

/**
 * The pages as one middleware: answers its own paths and hands every other request on unchanged,
 * so the endpoints' app keeps answering unknown paths (404) and wrong methods (405) itself.
 */
export function createPagesHandler(node: PagesNode, options: PagesOptions): RequestHandler {
  const root = normalizeRoot(options.rootPath);
  const source: SnapshotSource = { node, startedAt: performance.now() };
  const assetPrefix = `${root}/assets/`;

  return (req, res, next) => {
    const path = req.path;
    const page = PAGES.find((p) => path === `${root}/${p}`);
    const asset = path.startsWith(assetPrefix) ? path.slice(assetPrefix.length) : undefined;
    const isRoot = path === '/';
    if (page === undefined && asset === undefined && !isRoot) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });

    if (isRoot) return res.redirect(302, `${req.baseUrl}${root}/status`);
    if (asset !== undefined) return sendAsset(asset, res, options.logger);

    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // The open status page (and any health probe) polls more often than the keep-alive timeout, so
    // a kept-alive socket would never go idle and would hold server.close() open forever.
    res.setHeader('Connection', 'close');
    try {
      switch (page) {
        case 'health': {
          const report = healthOf(source);
          res.status(report.status === 'ok' ? 200 : 503).json(report);
          return;
        }
        case 'status.json': {
          const snapshot = snapshotOf(source);
          res.status(snapshot.health.status === 'starting' ? 503 : 200).json(snapshot);
          return;
        }
        case 'status':
          res.setHeader('Content-Security-Policy', CSP);
          res.status(200).type('text/html; charset=utf-8').send(renderStatusPage(snapshotOf(source)));
          return;
        case 'docs':
          res.setHeader('Content-Security-Policy', CSP);
          res.status(200).type('text/html; charset=utf-8').send(renderDocsPage(node.initialized ? shortName(String(node.identity.rid)) : 'starting'));
          return;
        default:
          return next();
      }
    } catch (err) {
      options.logger?.error({ err, path }, 'page failed');
      problem(res, 500, 'Internal Server Error');
    }
  };
}

function sendAsset(name: string, res: Response, logger: Logger | undefined): void {
  const asset = ASSETS.get(name);
  if (!asset) return problem(res, 404, 'Not Found');
  asset.body().then(
    (bytes) => {
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.status(200).type(asset.type).send(bytes);
    },
    (err: unknown) => {
      logger?.error({ err, asset: name }, 'page asset unavailable (is swagger-ui-dist installed?)');
      problem(res, 500, `Asset ${name} is unavailable`);
    },
  );
}

/** `api` (the endpoints' app) behind the pages: the app a full node serves. */
export function withPages(api: Express, node: PagesNode, options: PagesOptions): Express {
  const host = loadExpress()();
  host.disable('x-powered-by');
  host.disable('etag');
  host.use(createPagesHandler(node, options));
  host.use(api);
  return host;
}
