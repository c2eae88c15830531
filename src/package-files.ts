/**
 * Files shipped beside the code (package.json, the OpenAPI document). The code runs from src/ under
 * tsx (tests, development) and from dist/src/ once compiled, so the package root is found by
 * looking for this package's package.json instead of a fixed number of `../`.
 */
import { existsSync, readFileSync } from 'node:fs';

const PACKAGE_NAME = 'koi-net';

function findPackageRoot(): URL {
  let dir = new URL('./', import.meta.url);
  for (let depth = 0; depth < 4; depth++) {
    const manifest = new URL('package.json', dir);
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (name === PACKAGE_NAME) return dir;
    }
    dir = new URL('../', dir);
  }
  throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${import.meta.url}`);
}

let root: URL | undefined;

/** URL of a file given relative to the package root, e.g. `openapi/koi-net.openapi.yaml`. */
export function packageFileUrl(relativePath: string): URL {
  root ??= findPackageRoot();
  return new URL(relativePath, root);
}

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const { version } = JSON.parse(readFileSync(packageFileUrl('package.json'), 'utf8')) as { version: string };
  return version;
}
