/**
 * A port that was free a moment ago (bind 0, read it, release it). A node's profile announces its
 * URL before the server listens, so "any free port" has to be settled first.
 */
export declare function findFreePort(host?: string): Promise<number>;
