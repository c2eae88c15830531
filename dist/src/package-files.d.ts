/** URL of a file given relative to the package root, e.g. `openapi/koi-net.openapi.yaml`. */
export declare function packageFileUrl(relativePath: string): URL;
/** The package's version, from its package.json. */
export declare function packageVersion(): string;
