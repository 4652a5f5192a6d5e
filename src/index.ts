// Calico-TS's public library entry: Calico's selector language and the projectcalico.org/v3 resource model.
export { parseSelector, SelectorParseError, type Selector } from './selector/index.js';
export {
  parseResources,
  validateResource,
  decodeDocuments,
  applyCreateDefaults,
  ResourceValidationError,
  type Problem,
  type Resource,
  type ObjectMeta,
  type CalicoResource,
  type CalicoKind,
} from './api/index.js';
export type * from './api/v3/index.js';
