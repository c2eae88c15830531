import { RIDType } from "../rid/index.js";
/** The phases of the pipeline a handler can join. A closed set: the pipeline calls no others. */
export const HandlerType = {
    RID: 'RID',
    Manifest: 'Manifest',
    Bundle: 'Bundle',
    Network: 'Network',
    Final: 'Final',
};
const HANDLER_TYPES = new Set(Object.values(HandlerType));
export function isHandlerType(value) {
    return typeof value === 'string' && HANDLER_TYPES.has(value);
}
/** Returned by a handler to end the whole pipeline for the current knowledge object. */
export const STOP_CHAIN = Symbol('koi-net.STOP_CHAIN');
/**
 * Builds a handler, normalizing RID type strings once (so a typo fails at registration, not
 * silently never matching) and naming it after the function for log lines.
 */
export function createHandler(handlerType, options, fn) {
    if (!isHandlerType(handlerType)) {
        throw new TypeError(`unknown handler type ${JSON.stringify(handlerType)}; expected one of ${[...HANDLER_TYPES].join(', ')}`);
    }
    return Object.freeze({
        handlerType,
        ridTypes: options.ridTypes?.map((t) => RIDType.of(t)),
        eventTypes: options.eventTypes ? [...options.eventTypes] : undefined,
        name: options.name ?? (fn.name || undefined),
        fn,
    });
}
/** The name used in logs. */
export function handlerName(handler) {
    return handler.name ?? (handler.fn.name || `anonymous ${handler.handlerType} handler`);
}
/** Whether a handler's filters admit this kobj (empty filters admit everything, as in the reference). */
export function handlerMatches(handler, kobj) {
    if (handler.ridTypes && handler.ridTypes.length > 0) {
        const type = kobj.rid.type.toString();
        if (!handler.ridTypes.some((t) => t.toString() === type))
            return false;
    }
    if (handler.eventTypes && handler.eventTypes.length > 0) {
        if (kobj.eventType === undefined || !handler.eventTypes.includes(kobj.eventType))
            return false;
    }
    return true;
}
//# sourceMappingURL=handler.js.map