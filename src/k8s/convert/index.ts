// Kubernetes -> Calico conversion (pure): namespace and service-account profiles, pod endpoint labels and
// NetworkPolicy -> `knp.default.*` policies, as Calico's converters produce them.
export * from './selector.js';
export * from './profiles.js';
export * from './pod.js';
export * from './network-policy.js';
