import { pino } from 'pino';
export function createLogger(options = {}) {
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
const noop = () => { };
/** A logger that drops everything (tests, benchmarks). */
export const silentLogger = {
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    child: () => silentLogger,
};
//# sourceMappingURL=logger.js.map