// The projectcalico.org/v3 kinds: plural (the etcd key segment), scope, and calicoctl's aliases.
export interface KindInfo {
  kind: string;
  plural: string;
  namespaced: boolean;
  /** calicoctl accepts these (case-insensitive) besides kind and plural. */
  aliases: string[];
  /** Users may not create/update/delete it with calicoctl (Calico manages it). */
  readOnly?: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'IPPool', plural: 'ippools', namespaced: false, aliases: ['ipp', 'ipps', 'pool', 'pools'] },
  { kind: 'IPReservation', plural: 'ipreservations', namespaced: false, aliases: [] },
  {
    kind: 'IPAMConfiguration',
    plural: 'ipamconfigurations',
    namespaced: false,
    aliases: ['ipamconfig', 'ipamconfigs'],
  },
  {
    kind: 'BlockAffinity',
    plural: 'blockaffinities',
    namespaced: false,
    aliases: ['blockaffinity', 'affinity', 'affinities'],
    readOnly: true,
  },
  { kind: 'Node', plural: 'nodes', namespaced: false, aliases: ['no', 'nos'] },
  { kind: 'BGPConfiguration', plural: 'bgpconfigurations', namespaced: false, aliases: ['bgpconfig', 'bgpconfigs'] },
  { kind: 'BGPPeer', plural: 'bgppeers', namespaced: false, aliases: ['bgpp', 'bgpps', 'bp', 'bps'] },
  { kind: 'BGPFilter', plural: 'bgpfilters', namespaced: false, aliases: [] },
  {
    kind: 'FelixConfiguration',
    plural: 'felixconfigurations',
    namespaced: false,
    aliases: ['felixconfig', 'felixconfigs'],
  },
  {
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    aliases: ['policy', 'np', 'policies', 'pol', 'pols'],
  },
  { kind: 'GlobalNetworkPolicy', plural: 'globalnetworkpolicies', namespaced: false, aliases: ['gnp', 'gnps'] },
  { kind: 'StagedNetworkPolicy', plural: 'stagednetworkpolicies', namespaced: true, aliases: ['snp', 'snps'] },
  {
    kind: 'StagedGlobalNetworkPolicy',
    plural: 'stagedglobalnetworkpolicies',
    namespaced: false,
    aliases: ['sgnp', 'sgnps'],
  },
  {
    kind: 'StagedKubernetesNetworkPolicy',
    plural: 'stagedkubernetesnetworkpolicies',
    namespaced: true,
    aliases: ['sknp', 'sknps'],
  },
  { kind: 'Tier', plural: 'tiers', namespaced: false, aliases: [] },
  { kind: 'NetworkSet', plural: 'networksets', namespaced: true, aliases: ['netsets'] },
  { kind: 'GlobalNetworkSet', plural: 'globalnetworksets', namespaced: false, aliases: ['gnetsets'] },
  { kind: 'HostEndpoint', plural: 'hostendpoints', namespaced: false, aliases: ['hep', 'heps'] },
  { kind: 'WorkloadEndpoint', plural: 'workloadendpoints', namespaced: true, aliases: ['wep', 'weps'] },
  { kind: 'Profile', plural: 'profiles', namespaced: false, aliases: ['pro', 'pros'] },
  { kind: 'KubeControllersConfiguration', plural: 'kubecontrollersconfigurations', namespaced: false, aliases: [] },
  {
    kind: 'ClusterInformation',
    plural: 'clusterinformations',
    namespaced: false,
    aliases: ['clusterinfo', 'clusterinfos'],
    readOnly: true,
  },
];

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind, k.plural, ...k.aliases]) byName.set(n.toLowerCase(), k);
}

/** Looks a kind up by its name, plural or calicoctl alias (case-insensitive). */
export function lookupKind(name: string): KindInfo | undefined {
  return byName.get(name.toLowerCase());
}

export function kindInfo(kind: string): KindInfo {
  const k = KINDS.find((x) => x.kind === kind);
  if (!k) throw new Error(`unknown kind "${kind}"`);
  return k;
}
