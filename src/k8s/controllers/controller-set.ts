// ControllerSet: one leader term's worth of controllers. Builds the enabled controllers over shared informers,
// starts the informers, waits for their first lists, then starts the controllers (each begins with a full sync);
// stop() ends everything. A new term or a configuration change gets a new ControllerSet.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubernetesNetworkPolicy, KubernetesNode, Namespace, Pod, ServiceAccount } from '../../api/k8s/types.js';
import type { ResourceClient } from '../../datastore/resources.js';
import type { IpamClient } from '../../ipam/client.js';
import type { RunConfig } from './config.js';
import type { Controller } from './controller.js';
import { KubeInformers } from './informer.js';
import type { KubeLookup } from './kube-lookup.js';
import type { ControllerMetrics } from './metrics.js';
import { MirrorController } from './mirror.js';
import { namespaceMirror, policyMirror, serviceAccountMirror } from './mirrors.js';
import { NodeController } from './node.js';
import { WorkloadEndpointController } from './workload-endpoint.js';

export interface ControllerDeps {
  kubeConfig: KubeConfig;
  client: ResourceClient;
  ipam: IpamClient;
  lookup: KubeLookup;
  log: Logger;
  metrics: ControllerMetrics;
  deadPodGraceMs?: number;
}

export class ControllerSet {
  readonly controllers: Controller[] = [];
  private readonly informers: KubeInformers;
  private started = false;

  constructor(
    readonly config: RunConfig,
    deps: ControllerDeps,
  ) {
    const { client, log, metrics } = deps;
    this.informers = new KubeInformers(deps.kubeConfig, log, metrics);
    const c = config.controllers;
    const mirrorOpts = (period: number) => ({ client, log, metrics, reconcilerPeriodMs: period });
    if (c.namespace) {
      const inf = this.informers.get<Namespace>('Namespace');
      this.controllers.push(new MirrorController(namespaceMirror, inf, mirrorOpts(c.namespace.reconcilerPeriodMs)));
    }
    if (c.serviceaccount) {
      const inf = this.informers.get<ServiceAccount>('ServiceAccount');
      this.controllers.push(
        new MirrorController(serviceAccountMirror, inf, mirrorOpts(c.serviceaccount.reconcilerPeriodMs)),
      );
    }
    if (c.policy) {
      const inf = this.informers.get<KubernetesNetworkPolicy>('NetworkPolicy');
      this.controllers.push(new MirrorController(policyMirror, inf, mirrorOpts(c.policy.reconcilerPeriodMs)));
    }
    if (c.workloadendpoint) {
      this.controllers.push(
        new WorkloadEndpointController(this.informers.get<Pod>('Pod'), {
          client,
          ipam: deps.ipam,
          lookup: deps.lookup,
          log,
          metrics,
          reconcilerPeriodMs: c.workloadendpoint.reconcilerPeriodMs,
          deadPodGraceMs: deps.deadPodGraceMs,
        }),
      );
    }
    if (c.node) {
      this.controllers.push(
        new NodeController(this.informers.get<KubernetesNode>('Node'), this.informers.get<Pod>('Pod'), {
          client,
          ipam: deps.ipam,
          lookup: deps.lookup,
          log,
          metrics,
          reconcilerPeriodMs: c.node.reconcilerPeriodMs,
          leakGracePeriodMs: config.leakGracePeriodMs,
          syncLabels: config.syncLabels,
        }),
      );
    }
  }

  async start(): Promise<void> {
    this.started = true;
    await this.informers.startAll();
    if (!this.started) return;
    await Promise.all(this.controllers.map((c) => c.start()));
  }

  get names(): string[] {
    return this.controllers.map((c) => c.name);
  }

  async idle(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.idle()));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.informers.stopAll();
  }
}
