// Calico IPAM on the datastore: the IpamClient (assign, release, affinities, tunnel addresses), its errors, the leak
// collector and the `ipam check` analysis. The calico-ipam CNI handlers live in ./plugin, calicoctl's in src/ctl/ipam.
export { IpamClient, DATASTORE_RETRIES, EMPTY_BLOCK_MIN_RECLAIM_AGE_MS } from './client.js';
export type {
  AllocationInfo,
  AssignIpRequest,
  AutoAssignRequest,
  AutoAssignResult,
  CoolingInfo,
  IpamClientOptions,
  ReleaseOptions,
} from './client.js';
export * from './errors.js';
export { IpamStore, parseAffinityKey } from './store.js';
export { PoolChoiceError, type IntendedUse, type IpamPool } from './core/pool.js';
export { AnnotationError } from './core/annotations.js';
export {
  AddressCoolingDownError,
  AddressInUseError,
  ReleaseConflictError,
  type AllocationBlock,
} from './core/block.js';
export type { IpamConfig } from './core/records.js';
export { LeakCollector, datastoreLiveness, DEFAULT_LEAK_GRACE_PERIOD_MS } from './gc.js';
export type { AllocationLiveness, LeakScanResult } from './gc.js';
export { EmptyBlockCollector } from './blockgc.js';
export type { EmptyBlockScanResult } from './blockgc.js';
export { runIpamCheck, encodeCheckReport, decodeCheckReport } from './check.js';
export type { IpamCheckReport, IpamCheckResult, ReportAllocation } from './check.js';
