// Types and field tables shared by several kinds: object metadata, and the policy rule model (Rule, EntityRule,
// ICMP, ports) used by NetworkPolicy, GlobalNetworkPolicy, the staged kinds and Profile.
import {
  anything,
  bool,
  int,
  intOrStr,
  list,
  map,
  obj,
  oneOf,
  required,
  selector,
  str,
  stringList,
  stringMap,
  type FieldTable,
  type FieldsOf,
} from '../schema.js';

/** A port match: a number, a "min:max" range, or a named port. */
export type Port = number | string;
/** A protocol name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite; any case) or number 1..255. */
export type Protocol = string | number;
/** An AS number as a number or string, plain ("64512") or dotted ("1.10"). */
export type ASNumber = number | string;

export const metadataFields: FieldTable = {
  name: str(),
  namespace: str(),
  labels: stringMap,
  annotations: stringMap,
  resourceVersion: str(),
  uid: str(),
  creationTimestamp: anything,
  deletionTimestamp: anything,
  deletionGracePeriodSeconds: int(),
  generateName: str(),
  generation: int(),
  ownerReferences: list(anything),
  finalizers: stringList,
  managedFields: list(anything),
  selfLink: str(),
};

export interface SecretKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export const secretKeyRefFields: FieldTable = {
  secretKeyRef: obj({ name: required(str()), key: required(str()), optional: bool }),
};

export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';
export const RULE_ACTIONS: readonly RuleAction[] = ['Allow', 'Deny', 'Log', 'Pass'];

export interface ICMPFields {
  type?: number;
  code?: number;
}

export interface ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

export interface ServiceMatch {
  name?: string;
  namespace?: string;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: Port[];
  notPorts?: Port[];
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
}

export interface HTTPPath {
  exact?: string;
  prefix?: string;
}

export interface HTTPMatch {
  methods?: string[];
  paths?: HTTPPath[];
}

export interface Rule {
  action: RuleAction;
  ipVersion?: 4 | 6;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: ICMPFields;
  notICMP?: ICMPFields;
  source?: EntityRule;
  destination?: EntityRule;
  /** Application-layer match (ALP); kept, not enforced. */
  http?: HTTPMatch;
  metadata?: { annotations?: Record<string, string> };
}

const icmpFields = obj({ type: int(0, 254), code: int(0, 255) });

export const entityRuleFields = {
  nets: list(str()),
  notNets: list(str()),
  selector,
  notSelector: selector,
  namespaceSelector: str('namespaceSelector'),
  ports: list(intOrStr('port')),
  notPorts: list(intOrStr('port')),
  serviceAccounts: obj({ names: stringList, selector }),
  services: obj({ name: str(), namespace: str() }),
} satisfies FieldsOf<EntityRule>;

export const ruleFields = {
  action: required(oneOf(RULE_ACTIONS)),
  ipVersion: int(),
  protocol: intOrStr('protocol'),
  notProtocol: intOrStr('protocol'),
  icmp: icmpFields,
  notICMP: icmpFields,
  source: obj(entityRuleFields),
  destination: obj(entityRuleFields),
  http: obj({ methods: stringList, paths: list(obj({ exact: str(), prefix: str() })) }),
  metadata: obj({ annotations: map(str()) }),
} satisfies FieldsOf<Rule>;

export const rulesField = list(obj(ruleFields));
