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
export declare function createLogger(options?: LoggerOptions): Logger;
/** A logger that drops everything (tests, benchmarks). */
export declare const silentLogger: Logger;
