// Prometheus metrics of calico-kube-controllers, on a registry of their own (several instances may share a process
// in tests). Names follow Calico's kube-controllers where it has one (ipam_allocations_*).
import { Counter, Gauge, Registry } from 'prom-client';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'calico_kube_controllers_reconciles_total',
    help: 'Reconciliations of one key, by controller and result (ok, error).',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly writes = new Counter({
    name: 'calico_kube_controllers_datastore_writes_total',
    help: 'Calico datastore writes, by controller and operation (create, update, delete).',
    labelNames: ['controller', 'op'],
    registers: [this.registry],
  });
  readonly fullSyncs = new Counter({
    name: 'calico_kube_controllers_full_syncs_total',
    help: 'Full resyncs of a controller against the Calico datastore.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly informerLists = new Counter({
    name: 'calico_kube_controllers_informer_lists_total',
    help: 'Full lists of a Kubernetes resource (start-up and after 410 Gone).',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly informerErrors = new Counter({
    name: 'calico_kube_controllers_informer_errors_total',
    help: 'Failed lists or watches of a Kubernetes resource.',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: 'calico_kube_controllers_is_leader',
    help: '1 while this replica holds the leader Lease.',
    registers: [this.registry],
  });
  readonly gcCandidates = new Gauge({
    name: 'ipam_allocations_gc_candidates',
    help: 'IPAM allocations whose owner is gone, waiting for the leak grace period.',
    registers: [this.registry],
  });
  readonly gcReclamations = new Counter({
    name: 'ipam_allocations_gc_reclamations',
    help: 'Leaked IPAM allocations released by the garbage collector.',
    registers: [this.registry],
  });
  readonly allocationsInUse = new Gauge({
    name: 'ipam_allocations_in_use',
    help: 'IPAM allocations at the last scan.',
    registers: [this.registry],
  });
}
