// `calico-node install-cni [--dry-run]`: plans the install from the environment and applies it (or prints it). With
// SLEEP=true (Calico's default; its manifests' init container sets false) it then keeps running as Calico's sidecar
// does: it re-reads its inputs (template, etcd TLS secret, service-account token, node name) every
// CALICO_INSTALL_CNI_RECHECK_MS and re-writes the conflist, kubeconfig or TLS files they change, until SIGTERM.
import path from 'node:path';
import { applyInstall, planInstall, refreshInstall, truthy, type InstallPlan } from './install.js';

export {
  CALICO_CONFLIST_TEMPLATE,
  CALICO_VXLAN_CONFLIST_TEMPLATE,
  TEMPLATE_PLACEHOLDERS,
  conflistTemplateFor,
  renderCniTemplate,
  templateValues,
} from './template.js';
export { planInstall, applyInstall, refreshInstall, renderKubeconfig, type InstallPlan } from './install.js';

/** Where the plugin bundle is: env CALICO_CNI_PLUGIN_SOURCE, else `calico` beside the running calico-node bundle. */
export function pluginSource(env: Record<string, string | undefined>, argv1: string | undefined): string {
  if (env.CALICO_CNI_PLUGIN_SOURCE) return env.CALICO_CNI_PLUGIN_SOURCE;
  return path.join(path.dirname(argv1 ?? '.'), 'calico');
}

export interface InstallCniIo {
  env: Record<string, string | undefined>;
  argv1?: string;
  out(t: string): void;
  err(t: string): void;
  /** Ends the SLEEP loop (default: SIGTERM or SIGINT to this process). */
  signal?: AbortSignal;
}

export async function installCniMain(args: string[], io: InstallCniIo): Promise<number> {
  const unknown = args.filter((a) => a !== '--dry-run');
  if (unknown.length) {
    io.err(`install-cni: unknown argument(s) ${unknown.join(' ')} (usage: calico-node install-cni [--dry-run])\n`);
    return 2;
  }
  const log = (line: string) => io.err(`install-cni: ${line}\n`);
  const source = pluginSource(io.env, io.argv1);
  let plan: InstallPlan;
  try {
    plan = planInstall(io.env, source);
    if (args.includes('--dry-run')) {
      for (const [src, name] of plan.binaries) io.out(`# would install ${src} -> ${path.join(plan.binDir, name)}\n`);
      for (const [src, dest] of plan.tlsFiles) io.out(`# would copy ${src} -> ${dest}\n`);
      if (plan.kubeconfigPath) io.out(`# would write ${plan.kubeconfigPath} (mode 0600)\n${plan.kubeconfig}`);
      io.out(`# would write ${plan.confPath}\n${plan.conflist}`);
      return 0;
    }
    applyInstall(plan, io.env, log);
  } catch (err) {
    log((err as Error).message.replace(/^install-cni: /, ''));
    return 1;
  }
  if (!truthy(io.env.SLEEP, true)) return 0;
  const everyMs = Number(io.env.CALICO_INSTALL_CNI_RECHECK_MS) || 10_000;
  log(`done; SLEEP=true: re-checking the inputs every ${everyMs} ms (SIGTERM ends)`);
  await sleepAndRefresh(io, plan, source, everyMs, log);
  return 0;
}

async function sleepAndRefresh(
  io: InstallCniIo,
  first: InstallPlan,
  source: string,
  everyMs: number,
  log: (l: string) => void,
) {
  let previous = first;
  let signal = io.signal;
  let detach = () => {};
  if (!signal) {
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    detach = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    };
    signal = ctl.signal;
  }
  try {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        signal!.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (signal.aborted) break;
      try {
        const plan = planInstall(io.env, source);
        refreshInstall(plan, previous, log);
        previous = plan;
      } catch (err) {
        // A half-rotated secret or a template being edited: keep what is installed and try again next round.
        log(`re-check failed, keeping the installed files: ${(err as Error).message}`);
      }
    }
  } finally {
    detach();
  }
}
