import type { NodeSnapshot } from './snapshot.ts';
export declare const STATUS_COLOURS: Readonly<Record<string, string>>;
/** The `name` of `orn:koi-net.node:name+hash`, or a short form of any other RID. */
export declare function shortName(rid: string): string;
export declare function renderGraphSvg(graph: NodeSnapshot['graph']): string;
