import { KoiNetError } from './errors.ts';
export declare const LOCK_FILE_NAME = "koi-net.lock";
/** A second process (or a second node in this one) wants a data dir that is in use. */
export declare class DataDirLockedError extends KoiNetError {
    readonly dataDir: string;
    readonly pid: number;
    constructor(dataDir: string, pid: number);
}
export declare class DataDirLock {
    readonly dataDir: string;
    readonly path: string;
    private readonly token;
    private released;
    private readonly onExit;
    private constructor();
    /** Takes the lock of `dataDir` (created if missing), or throws DataDirLockedError. */
    static acquire(dataDir: string): Promise<DataDirLock>;
    /** Removes the lock if it is still ours. Idempotent. */
    release(): Promise<void>;
    private releaseSync;
}
