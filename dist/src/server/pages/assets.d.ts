export interface Asset {
    type: string;
    body: () => Promise<Buffer>;
}
export declare const ASSETS: ReadonlyMap<string, Asset>;
