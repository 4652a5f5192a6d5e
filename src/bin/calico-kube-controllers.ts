// calico-kube-controllers: the Kubernetes controllers (src/k8s/controllers). Settings from the environment:
// the datastore (DATASTORE_TYPE, SQLITE_PATH, ETCD_*), KUBECONFIG (else in-cluster), ENABLED_CONTROLLERS,
// LOG_LEVEL, HEALTH_PORT. Runs until SIGTERM or SIGINT, then releases the leader Lease and exits 0.
// `calico-kube-controllers -l` / `-r` are the probes: exit 0 or 1 with a one-line reason (Calico's check-status).
import { KubeConfig } from '@kubernetes/client-node';
import { datastoreSettingsFromEnv, openDatastore } from '../datastore/index.js';
import { checkStatus, DEFAULT_HEALTH_PORT, defaultLogger, runKubeControllers } from '../k8s/controllers/index.js';

async function main(): Promise<number> {
  const probe = process.argv[2];
  if (probe === '-l' || probe === '-r') {
    const port = Number(process.env.HEALTH_PORT ?? DEFAULT_HEALTH_PORT);
    const { ok, reason } = await checkStatus(probe === '-l' ? 'liveness' : 'readiness', port);
    process.stdout.write(`${reason}\n`);
    return ok ? 0 : 1;
  }
  if (probe !== undefined) throw new Error(`unknown argument "${probe}" (use -l or -r for the probes, or none)`);
  const log = defaultLogger(process.env.LOG_LEVEL);
  const settings = datastoreSettingsFromEnv(process.env);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  if (!kubeConfig.getCurrentCluster()) {
    throw new Error('no Kubernetes API: set KUBECONFIG to a kubeconfig file, or run in a pod with a service account');
  }
  const datastore = await openDatastore(settings, { timeoutMs: 10_000 });
  const controllers = await runKubeControllers({ datastore, kubeConfig, log });
  log.info(
    { identity: controllers.identity, health: controllers.healthUrl, metrics: controllers.metricsUrl },
    'running',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('stopping');
  await controllers.stop();
  await datastore.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`calico-kube-controllers: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
