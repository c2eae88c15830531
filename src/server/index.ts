export {
  createKoiNetApp,
  startServer,
  type KoiNetAppOptions,
  type RunningServer,
  type StartServerOptions,
} from './app.ts';
export { HttpProblem, type ValidationDetailItem } from './errors.ts';
