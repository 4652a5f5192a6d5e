// Validates one projectcalico.org/v3 object: the envelope, every field against its kind's table, then the kind's
// own rules — all on the object with create-time defaults applied, as Calico's client validates what it stores.
// Object in -> every problem out (ProblemSink); validateResource throws them as one ResourceValidationError.
import { applyCreateDefaults } from '../defaults.js';
import { CALICO_API_VERSION, type Resource } from '../resource.js';
import { ProblemSink, ResourceValidationError } from '../problems.js';
import { anything, checkShape, isPlainObject, obj, str, type FieldType } from '../schema.js';
import { isCalicoKind, KIND_SCHEMAS, type CalicoKind, type CalicoResource, metadataFields } from '../v3/index.js';
import { validateBGPConfiguration, validateBGPFilter, validateBGPPeer } from './bgp.js';
import { validateFelixConfiguration, validateNode } from './config.js';
import { validateHostEndpoint, validateProfile, validateWorkloadEndpoint } from './endpoints.js';
import { validateBlockAffinity, validateIPPool } from './ipam.js';
import { validateMetadata } from './metadata.js';
import { userReservedNameProblem } from '../names.js';
import {
  validateGlobalNetworkPolicy,
  validateNetworkPolicy,
  validateStagedGlobalNetworkPolicy,
  validateStagedKubernetesNetworkPolicy,
  validateStagedNetworkPolicy,
  validateTier,
} from './policy.js';
import { asObject, asString } from './values.js';

/** spec has create-time defaults applied; written is the spec as the user wrote it. */
type KindRule = (
  spec: Record<string, unknown>,
  sink: ProblemSink,
  name: string,
  written: Record<string, unknown>,
) => void;

const KIND_RULES: Partial<Record<CalicoKind, KindRule>> = {
  IPPool: validateIPPool,
  BlockAffinity: validateBlockAffinity,
  Node: validateNode,
  BGPConfiguration: validateBGPConfiguration,
  BGPPeer: validateBGPPeer,
  BGPFilter: validateBGPFilter,
  FelixConfiguration: validateFelixConfiguration,
  NetworkPolicy: validateNetworkPolicy,
  GlobalNetworkPolicy: validateGlobalNetworkPolicy,
  StagedNetworkPolicy: validateStagedNetworkPolicy,
  StagedGlobalNetworkPolicy: validateStagedGlobalNetworkPolicy,
  StagedKubernetesNetworkPolicy: validateStagedKubernetesNetworkPolicy,
  Tier: (spec, sink, name) => validateTier(spec, name, sink),
  HostEndpoint: validateHostEndpoint,
  WorkloadEndpoint: (spec, sink, name) => validateWorkloadEndpoint(spec, name, sink),
  Profile: validateProfile,
};

const KIND_NAMES = Object.keys(KIND_SCHEMAS).join(', ');

const envelopes = new Map<CalicoKind, FieldType>();

/** The whole object's field table: envelope fields around the kind's spec and status tables. */
function envelopeOf(kind: CalicoKind): FieldType {
  let t = envelopes.get(kind);
  if (!t) {
    const schema = KIND_SCHEMAS[kind];
    t = obj({
      apiVersion: str(),
      kind: str(),
      metadata: obj(metadataFields),
      spec: obj(schema.spec),
      status: schema.status ? obj(schema.status) : anything,
    });
    envelopes.set(kind, t);
  }
  return t;
}

export interface ValidateOptions {
  /** The object is written by a user (calicoctl), not by Calico's own components: reserved names are refused. */
  userWrite?: boolean;
}

/** Collects every problem of one object. document is its 1-based position in the input (0 = single object). */
export function resourceProblems(input: unknown, document = 0, opts: ValidateOptions = {}): ProblemSink {
  const sink = new ProblemSink(document, '', '');
  if (!isPlainObject(input)) {
    sink.add('', 'a resource must be a mapping with apiVersion, kind, metadata and spec');
    return sink;
  }
  const kind = asString(input.kind) ?? '';
  const meta = asObject(input.metadata);
  const name = asString(meta.name) ?? '';
  const ns = asString(meta.namespace);
  sink.identify(kind, ns ? `${ns}/${name}` : name);

  if (!kind) sink.add('kind', 'required');
  else if (!isCalicoKind(kind)) sink.add('kind', `unknown kind ${JSON.stringify(kind)}; known kinds: ${KIND_NAMES}`);
  if (input.apiVersion !== CALICO_API_VERSION) {
    sink.add('apiVersion', `must be ${CALICO_API_VERSION}, got ${JSON.stringify(input.apiVersion ?? '')}`);
  }
  if (!isCalicoKind(kind)) return sink;

  checkShape({ ...input, spec: input.spec ?? {} }, envelopeOf(kind), '', sink);
  validateMetadata(kind, meta, sink);
  const reserved = opts.userWrite && name ? userReservedNameProblem(kind, name) : undefined;
  if (reserved) sink.add('metadata.name', reserved);

  const defaulted = applyCreateDefaults(input as unknown as Resource);
  KIND_RULES[kind]?.(asObject(defaulted.spec), sink, name, asObject(input.spec));
  return sink;
}

/** Validates one object; returns it typed, or throws ResourceValidationError listing every problem. */
export function validateResource<T extends Resource = CalicoResource>(input: unknown, opts: ValidateOptions = {}): T {
  const sink = resourceProblems(input, 0, opts);
  if (!sink.ok) throw new ResourceValidationError(sink.problems);
  return input as T;
}
