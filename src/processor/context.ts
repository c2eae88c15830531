import type { Logger } from '../logger.ts';
import type { ProcessorComponents } from './components.ts';
import type { HandleInput, HandlerContext, KnowledgeProcessor } from './handler.ts';

/** What handlers get; a class, so each kobj costs one small object and no closures. */
export class KobjContext implements HandlerContext {
  constructor(
    private readonly components: ProcessorComponents,
    readonly processor: KnowledgeProcessor,
    readonly logger: Logger,
    readonly sourceNode: string | undefined,
  ) {}

  get cache(): ProcessorComponents['cache'] {
    return this.components.cache;
  }

  get identity(): ProcessorComponents['identity'] {
    return this.components.identity;
  }

  get graph(): ProcessorComponents['graph'] {
    return this.components.graph;
  }

  get network(): ProcessorComponents['network'] {
    return this.components.network;
  }

  get protocol(): ProcessorComponents['protocol'] {
    return this.components.protocol;
  }

  handle(input: HandleInput): Promise<void> {
    return this.processor.handle(input);
  }
}
