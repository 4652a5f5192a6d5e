// `calico-node install-cni [--dry-run]`: plans the install from the environment and applies it (or prints it).
import path from 'node:path';
import { applyInstall, planInstall } from './install.js';

export { CALICO_CONFLIST_TEMPLATE, TEMPLATE_PLACEHOLDERS, renderCniTemplate, templateValues } from './template.js';
export { planInstall, applyInstall, renderKubeconfig, type InstallPlan } from './install.js';

/** Where the plugin bundle is: env CALICO_CNI_PLUGIN_SOURCE, else `calico` beside the running calico-node bundle. */
export function pluginSource(env: Record<string, string | undefined>, argv1: string | undefined): string {
  if (env.CALICO_CNI_PLUGIN_SOURCE) return env.CALICO_CNI_PLUGIN_SOURCE;
  return path.join(path.dirname(argv1 ?? '.'), 'calico');
}

export async function installCniMain(
  args: string[],
  io: { env: Record<string, string | undefined>; argv1?: string; out(t: string): void; err(t: string): void },
): Promise<number> {
  const unknown = args.filter((a) => a !== '--dry-run');
  if (unknown.length) {
    io.err(`install-cni: unknown argument(s) ${unknown.join(' ')} (usage: calico-node install-cni [--dry-run])\n`);
    return 2;
  }
  try {
    const plan = planInstall(io.env, pluginSource(io.env, io.argv1));
    if (args.includes('--dry-run')) {
      for (const [src, name] of plan.binaries) io.out(`# would install ${src} -> ${path.join(plan.binDir, name)}\n`);
      if (plan.kubeconfigPath) io.out(`# would write ${plan.kubeconfigPath} (mode 0600)\n${plan.kubeconfig}`);
      io.out(`# would write ${plan.confPath}\n${plan.conflist}`);
      return 0;
    }
    applyInstall(plan, io.env, (line) => io.err(`install-cni: ${line}\n`));
    return 0;
  } catch (err) {
    io.err(`install-cni: ${(err as Error).message}\n`);
    return 1;
  }
}
