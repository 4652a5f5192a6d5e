// KubeControllersConfiguration `default` -> the run settings: which controllers run and their periods, the leak
// grace period, health checks and the Prometheus port. Calico's defaults fill what the resource leaves out; the
// environment variable ENABLED_CONTROLLERS (comma-separated names) overrides the set of controllers. Pure.
import type { KubeControllersConfigurationSpec } from '../../api/v3/cluster.js';

export const CONTROLLER_NAMES = ['node', 'policy', 'namespace', 'serviceaccount', 'workloadendpoint'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

/** Names ENABLED_CONTROLLERS accepts besides the above (Calico's older name of the endpoint controller). */
const ALIASES: Record<string, ControllerName> = { pod: 'workloadendpoint' };

export interface ControllerSettings {
  reconcilerPeriodMs: number;
}

export interface RunConfig {
  controllers: Partial<Record<ControllerName, ControllerSettings>>;
  leakGracePeriodMs: number;
  /** etcd history compaction period (0 = never). */
  etcdV3CompactionPeriodMs: number;
  syncLabels: boolean;
  healthChecks: boolean;
  prometheusMetricsPort: number;
  logSeverityScreen: string;
}

export class ConfigError extends Error {}

/** What calico-kube-controllers writes as `default` when there is none (Calico's defaults). */
export const DEFAULT_KUBE_CONTROLLERS_SPEC: KubeControllersConfigurationSpec = {
  logSeverityScreen: 'Info',
  healthChecks: 'Enabled',
  etcdV3CompactionPeriod: '10m',
  prometheusMetricsPort: 9094,
  controllers: {
    node: { reconcilerPeriod: '5m', syncLabels: 'Enabled', leakGracePeriod: '15m' },
    policy: { reconcilerPeriod: '5m' },
    workloadEndpoint: { reconcilerPeriod: '5m' },
    serviceAccount: { reconcilerPeriod: '5m' },
    namespace: { reconcilerPeriod: '5m' },
  },
};

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };

/** Go duration text ("5m", "1m30s", "250ms", "0") -> milliseconds. */
export function parseGoDuration(text: string, field: string): number {
  const s = String(text).trim();
  if (s === '0') return 0;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed += m[0].length;
  }
  if (!s || consumed !== s.length) throw new ConfigError(`${field}: "${s}" is not a duration (e.g. 5m, 90s)`);
  return total;
}

/** The controllers ENABLED_CONTROLLERS names, or undefined when it is unset or empty. */
export function enabledControllersFromEnv(value: string | undefined): ControllerName[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const out: ControllerName[] = [];
  for (const raw of value.split(',')) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    const known = (CONTROLLER_NAMES as readonly string[]).includes(name) ? (name as ControllerName) : ALIASES[name];
    if (!known) {
      throw new ConfigError(
        `ENABLED_CONTROLLERS: unknown controller "${raw.trim()}" (known: ${CONTROLLER_NAMES.join(', ')})`,
      );
    }
    if (!out.includes(known)) out.push(known);
  }
  return out;
}

const SPEC_KEY: Record<ControllerName, keyof NonNullable<KubeControllersConfigurationSpec['controllers']>> = {
  node: 'node',
  policy: 'policy',
  namespace: 'namespace',
  serviceaccount: 'serviceAccount',
  workloadendpoint: 'workloadEndpoint',
};

/** A controller runs when its section is present in spec.controllers, or when ENABLED_CONTROLLERS names it. */
export function runConfigFrom(
  spec: KubeControllersConfigurationSpec,
  env: Record<string, string | undefined> = {},
): RunConfig {
  const sections = spec.controllers ?? {};
  const fromEnv = enabledControllersFromEnv(env.ENABLED_CONTROLLERS);
  const enabled = fromEnv ?? CONTROLLER_NAMES.filter((n) => sections[SPEC_KEY[n]] !== undefined);
  const defaults = DEFAULT_KUBE_CONTROLLERS_SPEC.controllers!;
  const controllers: RunConfig['controllers'] = {};
  for (const name of enabled) {
    const key = SPEC_KEY[name];
    const period =
      (sections[key] as { reconcilerPeriod?: string } | undefined)?.reconcilerPeriod ??
      (defaults[key] as { reconcilerPeriod?: string }).reconcilerPeriod!;
    const ms = parseGoDuration(period, `spec.controllers.${key}.reconcilerPeriod`);
    if (ms <= 0)
      throw new ConfigError(`spec.controllers.${key}.reconcilerPeriod: must be more than 0, got "${period}"`);
    controllers[name] = { reconcilerPeriodMs: ms };
  }
  const node = sections.node ?? {};
  return {
    controllers,
    leakGracePeriodMs: parseGoDuration(
      node.leakGracePeriod ?? defaults.node!.leakGracePeriod!,
      'spec.controllers.node.leakGracePeriod',
    ),
    etcdV3CompactionPeriodMs: parseGoDuration(
      spec.etcdV3CompactionPeriod ?? DEFAULT_KUBE_CONTROLLERS_SPEC.etcdV3CompactionPeriod!,
      'spec.etcdV3CompactionPeriod',
    ),
    syncLabels: (node.syncLabels ?? 'Enabled') === 'Enabled',
    healthChecks: (spec.healthChecks ?? 'Enabled') === 'Enabled',
    prometheusMetricsPort: spec.prometheusMetricsPort ?? DEFAULT_KUBE_CONTROLLERS_SPEC.prometheusMetricsPort!,
    logSeverityScreen: spec.logSeverityScreen ?? 'Info',
  };
}

/** Milliseconds as Go's time.Duration prints them: "5m0s", "1h0m0s", "90s" -> "1m30s", "250ms", "0s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** The effective settings in the resource's own shape, as Calico reports them in status.runningConfig. */
export function runningConfigOf(
  config: RunConfig,
  spec: KubeControllersConfigurationSpec,
): KubeControllersConfigurationSpec {
  const controllers: NonNullable<KubeControllersConfigurationSpec['controllers']> = {};
  for (const name of CONTROLLER_NAMES) {
    const c = config.controllers[name];
    if (!c) continue;
    const reconcilerPeriod = formatGoDuration(c.reconcilerPeriodMs);
    if (name === 'node') {
      controllers.node = {
        reconcilerPeriod,
        syncLabels: config.syncLabels ? 'Enabled' : 'Disabled',
        leakGracePeriod: formatGoDuration(config.leakGracePeriodMs),
        ...(spec.controllers?.node?.hostEndpoint ? { hostEndpoint: spec.controllers.node.hostEndpoint } : {}),
      };
    } else controllers[SPEC_KEY[name] as 'policy'] = { reconcilerPeriod };
  }
  return {
    logSeverityScreen: config.logSeverityScreen,
    healthChecks: config.healthChecks ? 'Enabled' : 'Disabled',
    etcdV3CompactionPeriod: formatGoDuration(config.etcdV3CompactionPeriodMs),
    prometheusMetricsPort: config.prometheusMetricsPort,
    controllers,
  };
}
