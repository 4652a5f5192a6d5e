// The projectcalico.org/v3 API model: kinds and their types, decoding, validation and create-time defaults, and
// the Kubernetes input kinds Calico reads. Pure: no I/O.
export * from './resource.js';
export * from './kinds.js';
export * from './problems.js';
export { decodeDocuments, type DecodedDocument } from './decode.js';
export { parseResources, type ParseOptions } from './parse.js';
export { validateResource, resourceProblems, type ValidateOptions } from './validate/index.js';
export { applyCreateDefaults, defaultPolicyTypes, DEFAULT_TIER, TIER_LABEL } from './defaults.js';
export { parseASNumber, splitPeerIP, checkDuration, PROTOCOL_NAMES } from './formats.js';
export { protocolSupportsPorts } from './validate/rules.js';
export {
  nameProblem,
  userReservedNameProblem,
  labelKeyProblem,
  labelValueProblem,
  workloadEndpointName,
  isDns1123Label,
  isDns1123Subdomain,
  type WorkloadEndpointIds,
} from './names.js';
export * from './v3/index.js';
export * from './k8s/types.js';
export { defaultKubernetesObject, NAMESPACE_NAME_LABEL } from './k8s/defaults.js';
export { validateKubernetesObject, kubernetesObjectProblems, isKubernetesKind } from './k8s/validate.js';
export { updateProblems, validateUpdate } from './validate/update.js';
