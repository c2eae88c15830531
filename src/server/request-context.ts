import type { KoiNetNode } from '../rid/index.ts';

/** Per request facts handlers may need, as their second argument (absent when there are none). */
export interface RequestContext {
  /** Signed mode: who sent the envelope. */
  sourceNode?: KoiNetNode;
  /**
   * Unsigned mode: the request carried no Content-Type, as koi-net 1.0.0b6 and 1.0.x clients post.
   * A fetch_bundles answer then also lists the bundles under `manifests`, where b6 reads them.
   */
  withoutContentType?: boolean;
}
