// IPAM kinds: IPPool, IPReservation, IPAMConfiguration and BlockAffinity — types and field tables.
import {
  anything,
  bool,
  int,
  list,
  obj,
  oneOf,
  required,
  selector,
  str,
  type FieldTable,
  type FieldsOf,
} from '../schema.js';

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export const ENCAP_MODES: readonly EncapMode[] = ['Never', 'Always', 'CrossSubnet'];
export type IPPoolAllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
export const IPPOOL_ALLOWED_USES: readonly IPPoolAllowedUse[] = ['Workload', 'Tunnel', 'LoadBalancer'];
export type AssignmentMode = 'Automatic' | 'Manual';

export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: IPPoolAllowedUse[];
  assignmentMode?: AssignmentMode;
  awsSubnetID?: string;
  /** Deprecated v1-compatibility fields; kept and round-tripped. */
  ipip?: { enabled?: boolean; mode?: string };
  'nat-outgoing'?: boolean;
}

export const ipPoolSpecFields = {
  cidr: required(str()),
  blockSize: int(),
  ipipMode: oneOf(ENCAP_MODES),
  vxlanMode: oneOf(ENCAP_MODES),
  natOutgoing: bool,
  disabled: bool,
  disableBGPExport: bool,
  nodeSelector: selector,
  namespaceSelector: selector,
  allowedUses: list(oneOf(IPPOOL_ALLOWED_USES)),
  assignmentMode: oneOf(['Automatic', 'Manual']),
  awsSubnetID: str(),
  ipip: obj({ enabled: bool, mode: oneOf(['always', 'cross-subnet']) }),
  'nat-outgoing': bool,
} satisfies FieldsOf<IPPoolSpec>;

export const ipPoolStatusFields: FieldTable = {
  conditions: list(
    obj({
      type: str(),
      status: str(),
      reason: str(),
      message: str(),
      lastTransitionTime: str(),
      observedGeneration: int(),
    }),
  ),
};

export interface IPReservationSpec {
  reservedCIDRs: string[];
}

export const ipReservationSpecFields = { reservedCIDRs: list(str('cidr')) } satisfies FieldsOf<IPReservationSpec>;

export interface IPAMConfigurationSpec {
  strictAffinity?: boolean;
  autoAllocateBlocks?: boolean;
  maxBlocksPerHost?: number;
  ipCooldownSeconds?: number;
  kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
}

export const ipamConfigurationSpecFields = {
  strictAffinity: bool,
  autoAllocateBlocks: bool,
  maxBlocksPerHost: int(0, 1_000_000),
  ipCooldownSeconds: int(0, 1200),
  kubeVirtVMAddressPersistence: oneOf(['Enabled', 'Disabled']),
} satisfies FieldsOf<IPAMConfigurationSpec>;

export type BlockAffinityState = 'confirmed' | 'pending' | 'pendingDeletion';

export interface BlockAffinitySpec {
  state: BlockAffinityState;
  node: string;
  cidr: string;
  /** Stored as a string "true"/"false" by older releases, a boolean by newer. */
  deleted?: boolean | string;
  type?: string;
}

export const blockAffinitySpecFields = {
  state: required(oneOf(['confirmed', 'pending', 'pendingDeletion'])),
  node: required(str()),
  cidr: required(str('cidr')),
  deleted: anything,
  type: oneOf(['host', 'virtual']),
} satisfies FieldsOf<BlockAffinitySpec>;
