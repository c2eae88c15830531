/**
 * The contract check (express-openapi-validator on the OpenAPI document) and the one mapping of
 * every failure to the HTTP problem a Python peer expects.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type * as OpenApiValidatorModule from 'express-openapi-validator';
import { KoiNetError, StoreUnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { loadOpenapiDocument, openapiDocument } from '../protocol/spec.ts';
import { RID, RIDType } from '../rid/index.ts';
import {
  HttpProblem,
  INTERNAL,
  METHOD_NOT_ALLOWED,
  NOT_FOUND,
  badInputDetail,
  isBadInputError,
  validatorErrorsToDetail,
  type FormatExplainer,
  type ValidatorErrorItem,
} from './errors.ts';
import type { KoiLocals } from './routing.ts';

type OpenApiValidator = typeof OpenApiValidatorModule;

/** The loaded module; its error classes are what toProblem trusts (none can occur before it loads). */
let loadedValidator: OpenApiValidator | undefined;
let loadingValidator: Promise<OpenApiValidator> | undefined;

function loadValidatorModule(): Promise<OpenApiValidator> {
  loadingValidator ??= import('express-openapi-validator').then((m) => {
    // CommonJS under ESM: the namespace's default is the module object.
    const mod = ((m as unknown as { default?: OpenApiValidator }).default ?? m) as OpenApiValidator;
    loadedValidator = mod;
    return mod;
  });
  return loadingValidator;
}

/** The contract check stage; `prepare()` sets the validator up ahead of the first request needing it. */
export interface ContractValidation extends RequestHandler {
  prepare(): Promise<void>;
}

/**
 * The validator's middlewares as one stage. A body the fast check accepted (koiAccepted) is valid
 * under the contract: the validator would pass it as is, so it is skipped. The validator is
 * loaded and set up on the first request that needs it, or on `prepare()`: loading and compiling
 * it was ~300 ms of CPU in every start, before any fast-path fetch could be answered.
 */
export function contractValidation(validateResponses: boolean): ContractValidation {
  let middlewares: Promise<RequestHandler[]> | undefined;
  const setUp = (): Promise<RequestHandler[]> =>
    (middlewares ??= loadValidatorModule().then((OpenApiValidator) => {
      // The validator rewrites the document it gets: give it a copy.
      const apiSpec = loadOpenapiDocument();
      apiSpec['servers'] = [{ url: '/' }];
      return OpenApiValidator.middleware({
        apiSpec: apiSpec as unknown as Parameters<OpenApiValidator['middleware']>[0]['apiSpec'],
        validateRequests: { allErrors: true, coerceTypes: false, removeAdditional: false },
        validateResponses: validateResponses ? { coerceTypes: false, removeAdditional: false, allErrors: true } : false,
        validateSecurity: false,
        // Our own document, the same at every start: checking it against the OpenAPI meta-schema
        // cost ~150 ms of each start-up. test/unit/protocol/spec.test.ts runs that check instead.
        validateApiSpec: false,
        ignoreUndocumented: false,
        useRequestUrl: true,
        formats: {
          rid: { type: 'string', validate: parses((s) => RID.fromString(s)) },
          'rid-type': { type: 'string', validate: parses((s) => RIDType.fromString(s)) },
        },
      }) as unknown as RequestHandler[];
    }));

  const stage: RequestHandler = (req, res, next) => {
    if ((res.locals as KoiLocals).koiAccepted) return next();
    setUp().then(
      (validatorMiddlewares) => {
        let i = 0;
        const step = (err?: unknown): void => {
          if (err !== undefined && err !== null) return next(err);
          const mw = validatorMiddlewares[i++];
          if (mw === undefined) return next();
          try {
            void mw(req, res, step);
          } catch (thrown) {
            next(thrown);
          }
        };
        step();
      },
      (err: unknown) => next(err),
    );
  };
  return Object.assign(stage, { prepare: () => setUp().then(() => undefined) });
}

function parses(parse: (s: string) => unknown): (s: string) => boolean {
  return (s) => {
    try {
      parse(s);
      return true;
    } catch {
      return false;
    }
  };
}

/** Gives 422 messages the RID parser's own reason instead of a regex dump. */
const explainRidFailure: FormatExplainer = (kind, name, input) => {
  if (typeof input !== 'string') return undefined;
  const schemas = openapiDocument.components.schemas;
  const which =
    kind === 'format'
      ? name
      : name === schemas['RID']?.['pattern']
        ? 'rid'
        : name === schemas['RIDType']?.['pattern']
          ? 'rid-type'
          : undefined;
  try {
    if (which === 'rid') RID.fromString(input);
    else if (which === 'rid-type') RIDType.fromString(input);
    else return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : undefined;
  }
  return undefined;
};

/**
 * Only the validator's own error classes are trusted for their status; a handler throwing some
 * other error that happens to carry `status` is still a 500.
 */
function isValidatorHttpError(err: unknown): err is { status: number; errors?: ValidatorErrorItem[]; message: string } {
  if (loadedValidator === undefined) return false;
  return Object.values(loadedValidator.error).some((cls) => err instanceof cls);
}

export function toProblem(err: unknown, body: unknown, logger: Logger, req: Pick<IncomingMessage, 'method' | 'url'> & { originalUrl?: string }): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof KoiNetError && isBadInputError(err)) return HttpProblem.validation(badInputDetail(err));
  if (err instanceof StoreUnavailableError) {
    // Nothing was stored: never a 200, and a 503 tells the sender to try again later.
    logger.error({ err: err.message, method: req.method, path: req.originalUrl ?? req.url }, 'store unavailable; request refused with 503');
    return new HttpProblem(503, { detail: 'Service Unavailable: the node cannot store this now; retry later' }, { 'Retry-After': '1' });
  }
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
  logger.error({ err, method: req.method, path: req.originalUrl ?? req.url }, 'request failed');
  return INTERNAL();
}
