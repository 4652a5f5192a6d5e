// Validates endpoint kinds: HostEndpoint (node, interface or expected IPs, named ports), WorkloadEndpoint (name
// matches its identifiers, single-address networks, NATs inside them, ports), Profile rules and labels.
import { cidrContainsIp, parseCidr, parseIp } from '../../net/ip.js';
import { isContainerID, workloadEndpointName, workloadEndpointPartProblem } from '../names.js';
import { at, type ProblemSink } from '../problems.js';
import { validateLabels } from './metadata.js';
import { protocolSupportsPorts, validateRules } from './rules.js';
import { asArray, asObject, asString, isSet } from './values.js';

function checkEndpointPorts(ports: unknown, sink: ProblemSink, nameRequiredBySchema: boolean): void {
  asArray(ports).forEach((p, i) => {
    const port = asObject(p);
    const path = at('spec.ports', i);
    if (port.protocol !== undefined && port.protocol !== null && !protocolSupportsPorts(port.protocol)) {
      sink.add(at(path, 'protocol'), `protocol ${String(port.protocol)} does not support ports (use TCP, UDP or SCTP)`);
    }
    if (!nameRequiredBySchema && !isSet(port.name) && !isSet(port.hostPort)) {
      sink.add(at(path, 'name'), 'required when no hostPort is specified');
    }
  });
}

export function validateHostEndpoint(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (!isSet(spec.interfaceName) && !isSet(spec.expectedIPs)) {
    sink.add('spec.interfaceName', 'one of interfaceName or expectedIPs is required');
  }
  checkEndpointPorts(spec.ports, sink, true);
}

export function validateWorkloadEndpoint(spec: Record<string, unknown>, name: string, sink: ProblemSink): void {
  const networks: ReturnType<typeof parseCidr>[] = [];
  asArray(spec.ipNetworks).forEach((n, i) => {
    if (typeof n !== 'string') return;
    try {
      const c = parseCidr(n);
      networks.push(c);
      if (c.prefix !== (c.family === 4 ? 32 : 128)) {
        sink.add(
          at('spec.ipNetworks', i),
          `IP network ${JSON.stringify(n)} contains multiple addresses (use /32 or /128)`,
        );
      }
    } catch {
      // reported by the field table
    }
  });
  asArray(spec.ipNATs).forEach((n, i) => {
    const nat = asObject(n);
    try {
      const internal = parseIp(String(nat.internalIP));
      const external = parseIp(String(nat.externalIP));
      if (internal.family !== external.family)
        sink.add(at(at('spec.ipNATs', i), 'externalIP'), 'internal and external IP versions differ');
      if (!networks.some((c) => cidrContainsIp(c, internal))) {
        sink.add(at(at('spec.ipNATs', i), 'internalIP'), 'NAT internal IP is not one of the endpoint ipNetworks');
      }
    } catch {
      // reported by the field table
    }
  });
  const cid = asString(spec.containerID);
  if (cid && !isContainerID(cid)) sink.add('spec.containerID', `invalid container ID ${JSON.stringify(cid)}`);
  checkEndpointPorts(spec.ports, sink, false);

  // The name must be the one Calico derives from the endpoint's identifiers (cni.md §B.4).
  const node = asString(spec.node);
  const orchestrator = asString(spec.orchestrator);
  const workload = orchestrator === 'k8s' ? asString(spec.pod) : asString(spec.workload);
  const endpoint = asString(spec.endpoint);
  for (const [field, value] of [
    ['node', node],
    ['orchestrator', orchestrator],
    [orchestrator === 'k8s' ? 'pod' : 'workload', workload],
    ['endpoint', endpoint],
  ] as const) {
    const problem = value ? workloadEndpointPartProblem(value) : undefined;
    if (problem) sink.add(`spec.${field}`, problem);
  }
  if (!node) sink.add('spec.node', 'required');
  if (!orchestrator) sink.add('spec.orchestrator', 'required');
  if (node && orchestrator && workload && endpoint && name) {
    const expected = workloadEndpointName({ node, orchestrator, workload, endpoint });
    if (expected !== name) {
      sink.add('metadata.name', `does not match the endpoint's identifiers: expected ${JSON.stringify(expected)}`);
    }
  }
}

export function validateProfile(spec: Record<string, unknown>, sink: ProblemSink): void {
  validateRules(spec.ingress, 'spec.ingress', sink, 'ingress', 'profile');
  validateRules(spec.egress, 'spec.egress', sink, 'egress', 'profile');
  validateLabels(spec.labelsToApply, 'spec.labelsToApply', sink);
}
