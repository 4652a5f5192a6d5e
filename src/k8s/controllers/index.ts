// calico-kube-controllers: Kubernetes informers keep the Calico datastore in step (profiles, converted policies,
// endpoint labels, node and IPAM clean-up), under leader election, with health and metrics.
export { runKubeControllers, defaultLogger, DEFAULT_HEALTH_PORT } from './main.js';
export type { KubeControllers, KubeControllersOptions } from './main.js';
export {
  runConfigFrom,
  enabledControllersFromEnv,
  parseGoDuration,
  formatGoDuration,
  runningConfigOf,
  DEFAULT_KUBE_CONTROLLERS_SPEC,
  CONTROLLER_NAMES,
  ConfigError,
} from './config.js';
export type { RunConfig, ControllerName } from './config.js';
export { LeaseElector, DEFAULT_LEASE_NAME, DEFAULT_LEASE_NAMESPACE } from './leader.js';
export { kubernetesNodeOf } from './node.js';
export { checkStatus } from './check-status.js';
