import type { KoiNetHandlers } from '../../../generated/stubs/operations.ts';
import { SerializedJson } from '../serialized.ts';
import type { RequestContext } from '../request-context.ts';
import type { NodeView } from '../node-view.ts';

type FetchOperations = Pick<KoiNetHandlers, 'fetchRids' | 'fetchManifests' | 'fetchBundles'>;

/**
 * The three fetch operations, answered by the node's FetchAnswers. Unsigned answers go out as JSON
 * text the answers keep or pass on from the cache files; signed ones are objects, since the
 * envelope is signed over their serialization. Which one is decided per request: a request that
 * came in an envelope has a `sourceNode` (so a `both` node answers each in its own format).
 */
export function fetchOperations(node: Pick<NodeView, 'fetchAnswers'>, ready: Promise<void>): FetchOperations {
  return {
    async fetchRids(body, context: RequestContext = {}) {
      await ready;
      const answers = node.fetchAnswers;
      if (context.sourceNode) return answers.fetchRids(body);
      return serialized<'fetchRids'>(answers.fetchRidsJson(body));
    },

    async fetchManifests(body, context: RequestContext = {}) {
      await ready;
      const answers = node.fetchAnswers;
      if (context.sourceNode) return answers.fetchManifests(body);
      return serialized<'fetchManifests'>(await answers.fetchManifestsJson(body));
    },

    async fetchBundles(body, context: RequestContext = {}) {
      await ready;
      const answers = node.fetchAnswers;
      if (context.sourceNode) return answers.fetchBundles(body);
      const legacyManifestsField = context.withoutContentType === true;
      return serialized<'fetchBundles'>(await answers.fetchBundlesJson(body, { legacyManifestsField }));
    },
  };
}

/** The server sends a SerializedJson as it is; the handler's declared type is the object it stands for. */
function serialized<Op extends 'fetchRids' | 'fetchManifests' | 'fetchBundles'>(text: Buffer): Awaited<ReturnType<KoiNetHandlers[Op]>> {
  return new SerializedJson(text) as unknown as Awaited<ReturnType<KoiNetHandlers[Op]>>;
}
