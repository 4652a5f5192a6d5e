// The end-to-end policy conformance suite: the upstream netpol e2e world in a 3-node lab, every case applied through
// `calico-lab apply` and checked through the real kernel with the probe matrix, in BGP and in VXLAN mode.
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { ALL_PODS, matrixOf, toYaml, worldYaml } from './netpol-world.js';
import { CALICO_CASES, KUBERNETES_CASES, isPolicyObject, type Case, type World } from './netpol-cases.js';
import { TestLab, median } from './lab-harness.js';

const everythingReachable = matrixOf(() => true);

for (const mode of ['bgp', 'vxlan'] as const) {
  describe(`policy conformance (${mode} mode, 3 nodes)`, { concurrency: 1 }, () => {
    const lab = new TestLab(mode === 'bgp' ? 'tqb-' : 'tqv-');
    const times: { name: string; ms: number }[] = [];
    let world: World;

    before(async () => {
      lab.up(['--nodes', '3', '--mode', mode]);
      lab.apply(worldYaml());
      await lab.waitForPods(ALL_PODS.length);
      const ips = new Map(lab.pods().map((p) => [`${p.namespace}/${p.name}`, p.ips.find((ip) => !ip.includes(':'))!]));
      world = { ip: (k) => ips.get(k) ?? '' };
      await lab.waitForMatrices([{ probe: { port: 80, protocol: 'TCP' }, matrix: everythingReachable }], 60_000);
    });

    after(() => {
      const ms = times.map((t) => t.ms);
      process.stdout.write(
        `\n${mode}: time from the start of calico-lab apply to the expected matrix, per step:\n` +
          times.map((t) => `  ${String(t.ms).padStart(6)} ms  ${t.name}`).join('\n') +
          `\n${mode}: median ${median(ms)} ms over ${ms.length} steps (goal <= 500 ms)\n`,
      );
      lab.down();
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.startsWith(lab.prefix));
      if (left.length) throw new Error(`lab down left namespaces behind: ${left.join(', ')}`);
    });

    const runCase = async (c: Case) => {
      const applied: object[] = [];
      try {
        const steps = c.steps(world);
        for (const [i, step] of steps.entries()) {
          // Timed from the moment `calico-lab apply` starts, as a user would time it.
          const since = Date.now();
          if (step.apply) {
            lab.apply(toYaml(step.apply));
            applied.push(...step.apply.filter(isPolicyObject));
          }
          if (step.delete) lab.delete(toYaml(step.delete));
          const ms = await lab.waitForMatrices(
            step.probes.map((probe) => ({ probe, matrix: matrixOf((f, t) => step.reach(f, t, probe)) })),
            20_000,
            since,
          );
          times.push({ name: `${c.name}${steps.length > 1 ? ` (step ${i + 1})` : ''}`, ms });
        }
      } finally {
        const toDelete = applied.filter(
          (o, i) =>
            applied.findIndex(
              (p) =>
                JSON.stringify((p as any).metadata) === JSON.stringify((o as any).metadata) &&
                (p as any).kind === (o as any).kind,
            ) === i,
        );
        // Tiers first: calico-lab delete works through its input backwards, so policies go before their tiers.
        toDelete.sort((a, b) => Number((b as any).kind === 'Tier') - Number((a as any).kind === 'Tier'));
        if (toDelete.length) lab.delete(toYaml(toDelete));
        if (c.restore) lab.apply(toYaml(c.restore));
        await lab.waitForMatrices([{ probe: { port: 80, protocol: 'TCP' }, matrix: everythingReachable }]);
      }
    };

    for (const c of KUBERNETES_CASES) test(`k8s: ${c.name}`, () => runCase(c));
    for (const c of CALICO_CASES) test(`calico: ${c.name}`, () => runCase(c));
  });
}
