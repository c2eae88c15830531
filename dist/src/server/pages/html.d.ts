import type { NodeSnapshot } from './snapshot.ts';
/** Safe in element content and in quoted attribute values. */
export declare function escapeHtml(value: unknown): string;
/** Seconds between two refreshes of the status page (the script and the no-script fallback). */
export declare const STATUS_REFRESH_S = 3;
export declare function renderDocsPage(nodeLabel: string): string;
export declare function renderStatusPage(s: NodeSnapshot): string;
/** The part the page's script replaces on each refresh. */
export declare function renderStatusMain(s: NodeSnapshot): string;
