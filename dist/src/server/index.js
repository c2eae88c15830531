export { createKoiNetApp, DEFAULT_SERVER_LIMITS, resolveServerLimits, startServer, } from "./app.js";
export { HttpProblem } from "./errors.js";
export { DEFAULT_SERVER_TIMEOUTS, MAX_SERVER_TIMEOUT_MS, resolveServerTimeouts } from "./timeouts.js";
export { MAX_CONTENTS_DEPTH } from "./nesting.js";
export { createPagesHandler, withPages } from "./pages/index.js";
//# sourceMappingURL=index.js.map