import { join } from 'node:path';
import { NodeType } from '../protocol/index.ts';
import type { Logger } from '../logger.ts';
import type { ProcessorInterface } from '../processor/interface.ts';
import { Inbox, type InboxLog, type InboxOptions } from './inbox.ts';
import { InboxIntake, type IntakeComponents } from './intake.ts';

/** A node's tuning of its inbox (compaction threshold, checkpoint coalescing, fsync). */
export type InboxSettings = Omit<InboxOptions, 'logger'> & {
  /** Processor queue depth at which broadcasts wait before they are logged (InboxIntake's maxQueued). */
  maxQueued?: number;
};

export interface OpenInboxIntakeOptions {
  /**
   * true = `<dataDir>/inbox.log`, a string = that path, false = none. Default: on for FULL nodes
   * (they are the ones that answer broadcasts), off for PARTIAL nodes.
   */
  inbox: boolean | string | undefined;
  dataDir: string;
  settings: InboxSettings | undefined;
  processor: ProcessorInterface;
  components: IntakeComponents;
  logger: Logger;
  /**
   * Opens the log on another backend (e.g. PostgreSQL) instead of the file at the inbox path;
   * called only when the node has an inbox.
   */
  openLog?: OpenInboxLog;
}

/** Opens an inbox log of another backend with the node's settings. */
export type OpenInboxLog = (options: InboxOptions) => Promise<InboxLog>;

/** A node's inbox, opened and coupled to its processor; undefined when the node has none. */
export async function openInboxIntake(o: OpenInboxIntakeOptions): Promise<InboxIntake | undefined> {
  const path = inboxPath(o.inbox, o.dataDir, o.components.identity.profile.node_type);
  if (path === undefined) return undefined;
  const { maxQueued, ...inboxOptions } = o.settings ?? {};
  const cache = o.components.cache;
  const logOptions: InboxOptions = {
    ...inboxOptions,
    logger: o.logger,
    // The checkpoint may pass a batch only once its cache files are on disk (write-behind).
    ...(cache.sync ? { beforeCheckpoint: () => cache.sync!() } : {}),
  };
  return new InboxIntake({
    inbox: o.openLog ? await o.openLog(logOptions) : await Inbox.open(path, logOptions),
    processor: o.processor,
    components: o.components,
    ...(maxQueued !== undefined ? { maxQueued } : {}),
    logger: o.logger,
  });
}

function inboxPath(option: boolean | string | undefined, dataDir: string, nodeType: string): string | undefined {
  if (typeof option === 'string') return option;
  const enabled = option ?? nodeType === NodeType.FULL;
  return enabled ? join(dataDir, 'inbox.log') : undefined;
}
