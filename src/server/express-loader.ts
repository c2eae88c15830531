/**
 * express, required when an app is first built rather than when the server modules load: a full
 * node serves its fast path before it needs express (~100 ms of module loading at start-up).
 * A synchronous require (express is CommonJS) keeps one instance of every module of ours: a
 * dynamic import() of our own modules would load a second copy of them where the first came
 * through require (tsx's CommonJS hook in the tests), and instanceof / module-private symbols
 * between the two would fail.
 */
import { createRequire } from 'node:module';
import type createApplication from 'express';

let loaded: typeof createApplication | undefined;

export function loadExpress(): typeof createApplication {
  return (loaded ??= createRequire(import.meta.url)('express') as typeof createApplication);
}
