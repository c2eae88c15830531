import { pino } from 'pino';

/**
 * The narrow logging surface every module depends on. pino's Logger satisfies it; tests can pass
 * `silentLogger`. Modules take a Logger as an option instead of importing a global, so two nodes in
 * one process log under their own names.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** pino level name; default `info`. */
  level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON. */
  pretty?: boolean;
  /** Bound as `name` on every line, e.g. the node's name. */
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (options.pretty) {
    return pino({
      level,
      name: options.name,
      // Colours only on a terminal: in a file or a pipe the escape codes would be noise.
      transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, name: options.name });
}

const noop = (): void => {};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

/**
 * Whether `logger` would write a debug line, so hot paths can skip building its fields (an object
 * per knowledge object otherwise, even with debug off). True when the logger cannot tell.
 */
export function debugEnabled(logger: Logger): boolean {
  if (logger.debug === noop) return false;
  const probe = (logger as { isLevelEnabled?: unknown }).isLevelEnabled;
  return typeof probe === 'function' ? (probe as (level: string) => boolean).call(logger, 'debug') : true;
}
