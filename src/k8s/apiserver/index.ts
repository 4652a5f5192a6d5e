// The lab's and the tests' Kubernetes API server: start it in-process (startApiServer) or as a program (runApiServer).
export { startApiServer, adminKubeconfig, type ApiServer, type ApiServerOptions } from './server.js';
export { runApiServer, parseApiServerFlags, loadOrCreateCredentials } from './main.js';
export { TokenAuthority, type Identity } from './auth.js';
export { generateTlsMaterial, type TlsMaterial } from './tls.js';
export { KubeStore, K8S_PREFIX } from './storage.js';
export { SERVED_RESOURCES, type ServedResource } from './resources.js';
