import { KoiNetError } from '../errors.ts';
/**
 * The single place where failures become HTTP answers. Every answer is JSON in FastAPI's shapes
 * (`{"detail": [...]}` for 422, `{"detail": "..."}` otherwise) because peers written against the
 * Python reference parse exactly those.
 */
/** One item of FastAPI's `HTTPValidationError.detail`. */
export interface ValidationDetailItem {
    type: string;
    loc: (string | number)[];
    msg: string;
    input?: unknown;
    ctx?: Record<string, unknown>;
}
/** FastAPI's `{detail}` bodies, or the signed protocol's 400 `error_response`. */
export type HttpProblemBody = {
    detail: string | ValidationDetailItem[];
} | {
    type: 'error_response';
    error: string;
};
/** A failure that already knows its status and JSON body. */
export declare class HttpProblem extends Error {
    readonly status: number;
    readonly body: HttpProblemBody;
    readonly headers: Record<string, string>;
    constructor(status: number, body: HttpProblemBody, headers?: Record<string, string>);
    static validation(detail: ValidationDetailItem[]): HttpProblem;
    /** 400 with the body the reference sends for a refused envelope (unsigned, compact JSON). */
    static protocol(error: string): HttpProblem;
}
export declare const NOT_FOUND: () => HttpProblem;
export declare const METHOD_NOT_ALLOWED: (allow: string) => HttpProblem;
/**
 * The rest of an oversized body is never read, so the connection cannot carry another request:
 * `Connection: close` makes node:http close it once the answer is flushed.
 */
export declare const TOO_LARGE: (limit: number) => HttpProblem;
export declare const INTERNAL: () => HttpProblem;
/** The KoiNetErrors that mean "the caller sent something wrong", i.e. 422 rather than 500. */
export declare function isBadInputError(err: unknown): err is KoiNetError;
/** 422 detail for a bad-input KoiNetError thrown by a handler. */
export declare function badInputDetail(err: KoiNetError): ValidationDetailItem[];
/** The shape express-openapi-validator gives each failed check. */
export interface ValidatorErrorItem {
    path: string;
    message: string;
    errorCode?: string;
}
/**
 * Explains a failed `format` or `pattern` (named by the format, or by the pattern's source) in
 * domain terms, e.g. why a string is not an RID; undefined = no better text than ajv's.
 */
export type FormatExplainer = (kind: 'format' | 'pattern', name: string, input: unknown) => string | undefined;
export declare function safeInput(value: unknown): unknown;
/**
 * Maps express-openapi-validator's errors (JSON-pointer paths under `/body`) to FastAPI's detail
 * items with `loc` starting at `body`, one per offending field.
 */
export declare function validatorErrorsToDetail(errors: readonly ValidatorErrorItem[], body: unknown, explain?: FormatExplainer): ValidationDetailItem[];
/** `/body/events/0/rid` -> `['body', 'events', 0, 'rid']`, numbers only where the data is an array. */
export declare function pointerToLoc(pointer: string, body: unknown): (string | number)[];
