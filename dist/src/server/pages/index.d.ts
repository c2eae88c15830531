/**
 * Pages a person can look at, served by every full node next to the five endpoints:
 * - GET {root}/docs        interactive reference of the node's OpenAPI document (Swagger UI)
 * - GET {root}/health      JSON HealthReport (200 when ok, 503 when degraded or starting)
 * - GET {root}/status      HTML status page with a drawing of the graph; refreshes itself
 * - GET {root}/status.json the same facts as JSON (NodeSnapshot)
 * - GET /                  redirects to {root}/status
 * Pages show RIDs, node types, edge status/type and counts only, never bundle contents.
 */
import { type Express, type RequestHandler } from 'express';
import type { NodeInterface } from '../../node.ts';
import type { Logger } from '../../logger.ts';
export type { HealthReport, HealthStatus, NodeSnapshot, WireProtocol } from './snapshot.ts';
export { escapeHtml } from './html.ts';
export interface PagesOptions {
    /** The endpoints' prefix (default `/koi-net`); the pages live beside them. */
    rootPath: string;
    logger?: Logger;
}
/**
 * The pages as one middleware: answers its own paths and hands every other request on unchanged,
 * so the endpoints' app keeps answering unknown paths (404) and wrong methods (405) itself.
 */
export declare function createPagesHandler(node: NodeInterface, options: PagesOptions): RequestHandler;
/** `api` (the endpoints' app) behind the pages: the app a full node serves. */
export declare function withPages(api: Express, node: NodeInterface, options: PagesOptions): Express;
