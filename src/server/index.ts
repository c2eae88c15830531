export {
  createKoiNetApp,
  DEFAULT_SERVER_LIMITS,
  resolveServerLimits,
  startServer,
  type ServerLimits,
  type KoiNetAppOptions,
  type RunningServer,
  type StartServerOptions,
} from './app.ts';
export { HttpProblem, type ValidationDetailItem } from './errors.ts';
export { createPagesHandler, withPages, type HealthReport, type NodeSnapshot, type PagesOptions } from './pages/index.ts';
