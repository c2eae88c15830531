import { createServer } from 'node:http';
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { KoiNetError } from "../errors.js";
import { createLogger } from "../logger.js";
import { DEFAULT_ROOT_PATH, loadOpenapiDocument, openapiDocument } from "../protocol/spec.js";
import { KOI_NET_NODE_TYPE, RID, RIDType } from "../rid/index.js";
import { operations } from "../../generated/stubs/operations.js";
import { classifyContentType, parseByteLimit, parseJsonBody, readRawBody } from "./body.js";
import { nestingProblems } from "./nesting.js";
import { resolveServerTimeouts, serverTimeoutOptions } from "./timeouts.js";
import { MalformedEnvelopeError, ProtocolError, openEnvelope, peekEnvelope, signEnvelope, } from "../secure/index.js";
import { HttpProblem, INTERNAL, METHOD_NOT_ALLOWED, NOT_FOUND, TOO_LARGE, badInputDetail, isBadInputError, validatorErrorsToDetail, } from "./errors.js";
/** The payload type each endpoint takes and answers, as the reference's API_MODEL_MAP. */
const SIGNED_TYPES = {
    broadcastEvents: { request: 'events_payload', response: undefined },
    pollEvents: { request: 'poll_events', response: 'events_payload' },
    fetchRids: { request: 'fetch_rids', response: 'rids_payload' },
    fetchManifests: { request: 'fetch_manifests', response: 'manifests_payload' },
    fetchBundles: { request: 'fetch_bundles', response: 'bundles_payload' },
};
export const DEFAULT_SERVER_LIMITS = Object.freeze({
    maxEventsPerBroadcast: 1000,
    maxRidsPerFetch: 10_000,
    maxEventsPerPoll: 1000,
});
/** Fills in defaults and refuses nonsense early, at app creation rather than on the first request. */
export function resolveServerLimits(limits = {}) {
    const out = { ...DEFAULT_SERVER_LIMITS };
    for (const key of Object.keys(DEFAULT_SERVER_LIMITS)) {
        const v = limits[key];
        if (v === undefined)
            continue;
        if (!Number.isSafeInteger(v) || v < 1)
            throw new RangeError(`server limit ${key} must be a positive integer, got ${String(v)}`);
        out[key] = v;
    }
    return out;
}
/** Which body lists each operation caps, and by which limit. */
const CAPPED_LISTS = {
    broadcastEvents: [{ field: 'events', limit: 'maxEventsPerBroadcast' }],
    fetchRids: [{ field: 'rid_types', limit: 'maxRidsPerFetch' }],
    fetchManifests: [
        { field: 'rid_types', limit: 'maxRidsPerFetch' },
        { field: 'rids', limit: 'maxRidsPerFetch' },
    ],
    fetchBundles: [{ field: 'rids', limit: 'maxRidsPerFetch' }],
};
/** pydantic's answer to a `Field(max_length=n)` list that is too long, so Python peers parse it. */
function tooLongDetail(field, max, actual) {
    return {
        type: 'too_long',
        loc: ['body', field],
        msg: `List should have at most ${max} items after validation, not ${actual}`,
        input: `<${actual} items elided>`,
        ctx: { field_type: 'List', max_length: max, actual_length: actual },
    };
}
/** Where a request's events are, for the operation that takes events. */
function eventsPathOf(op, prefix) {
    return op?.id === 'broadcastEvents' ? [...prefix, 'events'] : undefined;
}
function isNodeRid(rid) {
    try {
        return RID.fromString(rid).type.toString() === KOI_NET_NODE_TYPE.toString();
    }
    catch {
        return false;
    }
}
function ownValue(obj, key) {
    if (obj === null || typeof obj !== 'object' || !Object.prototype.hasOwnProperty.call(obj, key))
        return undefined;
    return Object.getOwnPropertyDescriptor(obj, key)?.value;
}
/**
 * Paths come from the generated operations table only, so a path changed in the contract cannot
 * leave a stale route here.
 */
const OPERATIONS_BY_PATH = new Map(Object.keys(operations).map((id) => {
    const op = operations[id];
    return [op.path, { id, method: op.method.toUpperCase(), path: op.path }];
}));
const SPEC_PATH = '/openapi.json';
function normalizeRootPath(root) {
    let r = root.trim();
    if (r === '' || r === '/')
        return '';
    if (!r.startsWith('/'))
        r = `/${r}`;
    return r.replace(/\/+$/, '');
}
/** Gives 422 messages the RID parser's own reason instead of a regex dump. */
const explainRidFailure = (kind, name, input) => {
    if (typeof input !== 'string')
        return undefined;
    const schemas = openapiDocument.components.schemas;
    const which = kind === 'format'
        ? name
        : name === schemas['RID']?.['pattern']
            ? 'rid'
            : name === schemas['RIDType']?.['pattern']
                ? 'rid-type'
                : undefined;
    try {
        if (which === 'rid')
            RID.fromString(input);
        else if (which === 'rid-type')
            RIDType.fromString(input);
        else
            return undefined;
    }
    catch (err) {
        return err instanceof Error ? err.message : undefined;
    }
    return undefined;
};
function parses(parse) {
    return (s) => {
        try {
            parse(s);
            return true;
        }
        catch {
            return false;
        }
    };
}
const VALIDATOR_ERRORS = OpenApiValidator.error;
/**
 * Only the validator's own error classes are trusted for their status; a handler throwing some
 * other error that happens to carry `status` is still a 500.
 */
function isValidatorHttpError(err) {
    return Object.values(VALIDATOR_ERRORS).some((cls) => err instanceof cls);
}
/**
 * Builds the KOI-net HTTP API as an express application (mountable with `host.use(path, app)`).
 * Pipeline: route (own table) -> raw body + JSON parse -> express-openapi-validator -> handler
 * -> one error handler that answers every failure with JSON.
 */
export function createKoiNetApp(options) {
    const { handlers, bodyLimit = '1mb', validateResponses = false, alsoServeUnprefixed = false, passThroughUnknown = false, } = options;
    const rootPath = normalizeRootPath(options.rootPath ?? DEFAULT_ROOT_PATH);
    const limit = parseByteLimit(bodyLimit);
    const limits = resolveServerLimits(options.limits);
    const logger = options.logger ?? createLogger({ name: 'koi-net-server' });
    const app = express();
    // No framework fingerprinting, and no ETag-driven 304s on POST answers.
    app.disable('x-powered-by');
    app.disable('etag');
    // 1. Route: decide the operation ourselves so 404/405 are JSON and the validator only ever
    //    sees the canonical operation path, wherever this app is mounted.
    const route = (req, res, next) => {
        const path = req.path;
        let sub;
        if (rootPath === '')
            sub = path;
        else if (path.startsWith(`${rootPath}/`))
            sub = path.slice(rootPath.length);
        else if (alsoServeUnprefixed)
            sub = path;
        if (sub === SPEC_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
            res.status(200).json({ ...openapiDocument, servers: [{ url: rootPath || '/' }] });
            return;
        }
        const op = sub === undefined ? undefined : OPERATIONS_BY_PATH.get(sub);
        if (!op) {
            // 'router' leaves this app altogether, back to the host app's next route.
            if (passThroughUnknown)
                return next('router');
            return next(NOT_FOUND());
        }
        if (req.method !== op.method)
            return next(METHOD_NOT_ALLOWED(op.method));
        res.locals.koiOperation = op;
        // express-openapi-validator runs with useRequestUrl, so it matches this canonical path. The
        // query string goes too: the contract has no query parameters and FastAPI ignores unknown ones.
        req.url = op.path;
        next();
    };
    // 2. Body: read (bounded), decode, parse. On failure the answer is already on its way (413, 422,
    //    or a destroyed socket for an aborted upload) and undefined comes back.
    const readJson = async (req, next) => {
        const raw = await readRawBody(req, limit);
        if (!raw.ok) {
            if (raw.reason === 'too-large')
                next(TOO_LARGE(limit));
            else
                req.socket.destroy();
            return undefined;
        }
        const parsed = parseJsonBody(raw.bytes, classifyContentType(req.headers['content-type']));
        if (!parsed.ok) {
            next(HttpProblem.validation(parsed.detail));
            return undefined;
        }
        return { bytes: raw.bytes, value: parsed.value };
    };
    const body = (req, res, next) => {
        readJson(req, next).then((json) => {
            if (!json)
                return;
            const tooDeep = nestingProblems(json.value, eventsPathOf(res.locals.koiOperation, []));
            if (tooDeep.length > 0)
                return next(HttpProblem.validation(tooDeep));
            req.body = json.value;
            // The body is already JSON; say so, so the validator picks the contract's JSON schema
            // (it would otherwise refuse a missing or `+json` Content-Type with 415).
            req.headers['content-type'] = 'application/json';
            next();
        }, (err) => next(err));
    };
    // 2'. Signed mode: the body is an envelope. Open it (422 when malformed, 400 error_response when
    //     refused), then hand its payload on in the unsigned shape so caps, contract validation and
    //     handlers stay one code path for both protocols.
    const signed = options.signed;
    const signedBody = (req, res, next) => {
        const op = res.locals.koiOperation;
        readJson(req, next)
            .then(async (json) => {
            if (!json)
                return;
            if (!op || !signed)
                return next(INTERNAL());
            // Before the envelope is parsed again (losslessly, recursively) and its signature checked.
            const tooDeep = nestingProblems(json.value, eventsPathOf(op, ['payload']));
            if (tooDeep.length > 0)
                return next(HttpProblem.validation(tooDeep));
            const text = json.bytes.toString('utf8');
            const expected = SIGNED_TYPES[op.id].request;
            try {
                // FastAPI validates the envelope model of the path before any signature check.
                const peeked = peekEnvelope(text);
                if (peeked.payload.type !== expected) {
                    return next(HttpProblem.validation([{ type: 'literal_error', loc: ['body', 'payload', 'type'], msg: `Input should be '${expected}'`, input: peeked.payload.type }]));
                }
                await signed.ready;
                const known = await signed.lookup(peeked.sourceNode);
                const env = openEnvelope(text, { self: signed.self(), lookup: () => known, allowSelfIntroduction: expected === 'events_payload' });
                const { type: _type, ...payload } = env.payload;
                if (op.id === 'pollEvents')
                    payload['rid'] = env.sourceNode.toString();
                req.body = payload;
                res.locals.koiSource = env.sourceNode;
                req.headers['content-type'] = 'application/json';
                next();
            }
            catch (err) {
                if (err instanceof ProtocolError) {
                    logger.info({ path: req.originalUrl, error: err.errorType, reason: err.message }, 'refused a signed request');
                    return next(HttpProblem.protocol(err.errorType));
                }
                if (err instanceof MalformedEnvelopeError) {
                    return next(HttpProblem.validation([{ type: 'value_error', loc: ['body'], msg: err.message }]));
                }
                next(err);
            }
        })
            .catch((err) => next(err));
    };
    // 2b. List caps, before the contract check so an oversized list costs no per-item validation.
    const capLists = (req, res, next) => {
        const op = res.locals.koiOperation;
        const caps = op ? CAPPED_LISTS[op.id] : undefined;
        if (!caps)
            return next();
        const detail = [];
        for (const { field, limit: which } of caps) {
            const list = ownValue(req.body, field);
            if (Array.isArray(list) && list.length > limits[which])
                detail.push(tooLongDetail(field, limits[which], list.length));
        }
        next(detail.length > 0 ? HttpProblem.validation(detail) : undefined);
    };
    // 3b. Poll answers are capped by rewriting the request's `limit`: the handler and the queue then
    //     leave the rest queued for the next poll, exactly as if the caller had asked for fewer.
    const capPoll = (req, res, next) => {
        const op = res.locals.koiOperation;
        if (op?.id === 'pollEvents' && req.body !== null && typeof req.body === 'object') {
            // Only node RIDs have poll queues. The contract takes any RID (as the reference does, which
            // answers an empty list), but the node's queue lookup refuses non-node RIDs with an error
            // that would surface as a 500.
            const rid = ownValue(req.body, 'rid');
            if (typeof rid === 'string' && !isNodeRid(rid)) {
                res.status(200).json({ events: [] });
                return;
            }
            const asked = ownValue(req.body, 'limit');
            const max = limits.maxEventsPerPoll;
            const wanted = typeof asked === 'number' && asked > 0 ? Math.min(asked, max) : max;
            req.body['limit'] = wanted;
        }
        next();
    };
    // 3. Contract validation. The validator rewrites the document it gets: give it a copy.
    const apiSpec = loadOpenapiDocument();
    apiSpec['servers'] = [{ url: '/' }];
    const validatorMiddlewares = OpenApiValidator.middleware({
        apiSpec: apiSpec,
        validateRequests: { allErrors: true, coerceTypes: false, removeAdditional: false },
        validateResponses: validateResponses ? { coerceTypes: false, removeAdditional: false, allErrors: true } : false,
        validateSecurity: false,
        ignoreUndocumented: false,
        useRequestUrl: true,
        formats: {
            rid: { type: 'string', validate: parses((s) => RID.fromString(s)) },
            'rid-type': { type: 'string', validate: parses((s) => RIDType.fromString(s)) },
        },
    });
    // 4. Dispatch to the handler.
    const dispatch = (req, res, next) => {
        const op = res.locals.koiOperation;
        if (!op)
            return next(INTERNAL());
        const handler = handlers[op.id];
        const source = res.locals.koiSource;
        Promise.resolve()
            // Unsigned mode calls handlers exactly as before: with the body only.
            .then(() => (source ? handler.call(handlers, req.body, { sourceNode: source }) : handler.call(handlers, req.body)))
            .then((result) => {
            const responseType = SIGNED_TYPES[op.id].response;
            if (signed && source && responseType !== undefined && result !== undefined && result !== null) {
                // The answer is an envelope signed to the requester, as the reference's response handler.
                const payload = { ...result, type: responseType };
                const text = signEnvelope(payload, { sourceNode: signed.self(), targetNode: source, keyPair: signed.keyPair() });
                res.status(200).type('application/json').send(text);
                return;
            }
            if (result === undefined || result === null) {
                // Sent as text so the response validator's res.json hook cannot turn `null` into a 204.
                res.status(200).type('application/json').send('null');
                return;
            }
            res.status(200).json(result);
        })
            .catch(next);
    };
    // 5. Every failure becomes JSON here.
    const onError = (err, req, res, _next) => {
        const problem = toProblem(err, req.body, logger, req);
        if (res.headersSent) {
            logger.error({ err, path: req.originalUrl }, 'error after the answer started; dropping the connection');
            req.socket.destroy();
            return;
        }
        res.status(problem.status);
        for (const [name, value] of Object.entries(problem.headers))
            res.setHeader(name, value);
        // Past an opened envelope, checks ran on its payload: name fields where the sender put them.
        res.json(res.locals.koiSource ? underPayload(problem.body) : problem.body);
    };
    app.use(route, signed ? signedBody : body, capLists, ...validatorMiddlewares, capPoll, dispatch);
    app.use(onError);
    return app;
}
/** `['body', 'events', 1]` -> `['body', 'payload', 'events', 1]`, as the reference's envelope model reports it. */
function underPayload(body) {
    if (!('detail' in body) || !Array.isArray(body.detail))
        return body;
    return {
        detail: body.detail.map((item) => item.loc[0] === 'body' && item.loc[1] !== 'payload' ? { ...item, loc: ['body', 'payload', ...item.loc.slice(1)] } : item),
    };
}
function toProblem(err, body, logger, req) {
    if (err instanceof HttpProblem)
        return err;
    if (err instanceof KoiNetError && isBadInputError(err))
        return HttpProblem.validation(badInputDetail(err));
    if (isValidatorHttpError(err)) {
        switch (err.status) {
            case 400:
                return HttpProblem.validation(validatorErrorsToDetail(err.errors ?? [], body, explainRidFailure));
            case 404:
                return NOT_FOUND();
            case 405:
                return METHOD_NOT_ALLOWED('POST');
            case 415:
                return HttpProblem.validation([
                    {
                        type: 'model_attributes_type',
                        loc: ['body'],
                        msg: 'Input should be a valid dictionary or object to extract fields from',
                    },
                ]);
            default:
                break;
        }
    }
    logger.error({ err, method: req.method, path: req.originalUrl }, 'request failed');
    return INTERNAL();
}
/** Listens with `app`; resolves once the port is bound. */
export function startServer(app, options = {}) {
    const host = options.host ?? '127.0.0.1';
    // Resolved before listening, so a bad value fails the start rather than the first slow client.
    const timeouts = resolveServerTimeouts(options.timeouts);
    const server = createServer(serverTimeoutOptions(timeouts), app);
    return new Promise((resolve, reject) => {
        const onError = (err) => reject(err);
        server.once('error', onError);
        server.listen(options.port ?? 0, host, () => {
            server.off('error', onError);
            const { port } = server.address();
            const hostPart = host.includes(':') ? `[${host}]` : host;
            resolve({
                url: `http://${hostPart}:${port}`,
                port,
                server,
                close: () => new Promise((done, fail) => {
                    server.close((err) => (err ? fail(err) : done()));
                    server.closeIdleConnections();
                }),
            });
        });
    });
}
//# sourceMappingURL=app.js.map