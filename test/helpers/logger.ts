/** A logger for tests that keeps every line, to check what is (and is not) logged. */
import type { Logger } from '../../src/logger.ts';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  /** Date.now() when logged, for tests of timing (retry gaps). */
  at: number;
  msg: string | undefined;
  obj: Record<string, unknown>;
}

export interface CollectingLogger extends Logger {
  readonly lines: LogLine[];
  /** Messages at `levels` (default warn and error), in order. */
  messages(...levels: LogLine['level'][]): string[];
  at(level: LogLine['level']): LogLine[];
}

/** Children share their parent's lines, so one list holds what a whole component tree logged. */
export function collectingLogger(lines: LogLine[] = []): CollectingLogger {
  const record = (level: LogLine['level']) => (obj: object, msg?: string): void => {
    lines.push({ level, at: Date.now(), msg, obj: obj as Record<string, unknown> });
  };
  const logger: CollectingLogger = {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    child: () => logger,
    messages: (...levels) => {
      const want = levels.length > 0 ? levels : ['warn', 'error'];
      return lines.filter((l) => want.includes(l.level)).map((l) => l.msg ?? '');
    },
    at: (level) => lines.filter((l) => l.level === level),
  };
  return logger;
}
