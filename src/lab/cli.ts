// The `calico-lab` command line. Commands that need the Kubernetes API server or etcd re-run themselves inside the
// underlay namespace (the only place those listen), because nothing links the root namespace to the lab.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DEFAULT_LAB_DIR, DEFAULT_PREFIX, datastoreEnv, labLayout, type LabOptions } from './layout.js';
import { loadState } from './state.js';

const labDirOption = () =>
  new Option('--lab-dir <dir>', 'lab directory').default(process.env.CALICO_LAB_DIR ?? DEFAULT_LAB_DIR);

function requireLab(labDir: string) {
  const state = loadState(labDir);
  if (!state) throw new Error(`no lab in ${labDir}: run "calico-lab up" first`);
  return { state, layout: labLayout(state.options) };
}

const binDir = () => path.dirname(process.argv[1] ?? '.');
const selfCommand = () => [process.execPath, process.argv[1] ?? 'calico-lab'];

/** Runs a program inside the lab's underlay namespace with the lab's datastore and kubeconfig settings. */
function inUnderlay(labDir: string, program: string, args: string[], input?: string): number {
  const { layout } = requireLab(labDir);
  const env = { ...process.env, ...datastoreEnv(layout), KUBECONFIG: path.join(labDir, 'k8s', 'admin.kubeconfig') };
  const r = spawnSync('ip', ['netns', 'exec', layout.underlayNetns, program, ...args], {
    env,
    stdio: input === undefined ? 'inherit' : ['pipe', 'inherit', 'inherit'],
    input,
  });
  return r.status ?? 1;
}

function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

export async function main(argv: string[]): Promise<number> {
  // Pass-through commands keep their arguments verbatim.
  const [cmd, ...rest] = argv;
  const labDir = process.env.CALICO_LAB_DIR ?? DEFAULT_LAB_DIR;
  if (cmd === 'calicoctl') return inUnderlay(labDir, path.join(binDir(), 'calicoctl'), rest);
  if (cmd === 'kubectl') {
    return inUnderlay(labDir, 'kubectl', ['--kubeconfig', path.join(labDir, 'k8s', 'admin.kubeconfig'), ...rest]);
  }
  if (cmd === 'exec') {
    const sep = rest.indexOf('--');
    const target = rest[0];
    if (!target || sep < 0) throw new Error('usage: calico-lab exec NS/POD -- CMD [ARGS...]');
    const [ns, pod] = target.split('/');
    const { readPodRecord } = await import('./pod-record.js');
    const rec = readPodRecord(labDir, ns!, pod!);
    if (!rec) throw new Error(`no pod ${target} in the lab`);
    const r = spawnSync('ip', ['netns', 'exec', rec.netns, ...rest.slice(sep + 1)], { stdio: 'inherit' });
    return r.status ?? 1;
  }

  let exitCode = 0;
  const program = new Command('calico-lab')
    .description('A multi-node Calico-TS cluster in network namespaces on one machine')
    .exitOverride();

  program
    .command('up')
    .description('start the lab (idempotent)')
    .addOption(labDirOption())
    .option('--nodes <n>', 'number of nodes', '3')
    .addOption(new Option('--datastore <type>', 'datastore').choices(['sqlite', 'etcd']).default('sqlite'))
    .addOption(new Option('--mode <mode>', 'networking').choices(['bgp', 'vxlan', 'vxlan-crosssubnet']).default('bgp'))
    .option('--ipv6', 'dual-stack pods and nodes', false)
    .option('--prefix <p>', 'name prefix of every namespace', DEFAULT_PREFIX)
    .action(async (o) => {
      const { labUp } = await import('./up.js');
      const nodes = Number(o.nodes);
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50)
        throw new Error(`--nodes: must be 1..50, got ${o.nodes}`);
      const options: LabOptions = {
        labDir: o.labDir,
        nodes,
        datastore: o.datastore,
        mode: o.mode,
        ipv6: o.ipv6,
        prefix: o.prefix,
      };
      await labUp(options, { binDir: binDir() });
    });

  program
    .command('down')
    .description('remove every namespace, process and file of the lab')
    .addOption(labDirOption())
    .option('--prefix <p>', 'name prefix (when the state file is gone)', DEFAULT_PREFIX)
    .action(async (o) => {
      const { labDown } = await import('./down.js');
      const removed = await labDown(o.labDir, o.prefix);
      process.stdout.write(
        removed.length ? `removed ${removed.length} item(s): ${removed.join(', ')}\n` : 'nothing to remove\n',
      );
    });

  program
    .command('status')
    .description('nodes, agents, BGP sessions, pools and pods')
    .addOption(labDirOption())
    .action(async (o) => {
      const { labStatus } = await import('./status.js');
      exitCode = await labStatus(o.labDir, binDir());
    });

  for (const verb of ['apply', 'delete'] as const) {
    program
      .command(verb)
      .description(
        `${verb} Kubernetes objects (to the API server) and projectcalico.org/v3 resources (to the datastore)`,
      )
      .requiredOption('-f, --filename <file>', 'file, or - for standard input')
      .addOption(labDirOption())
      .action(async (o) => {
        exitCode = inUnderlay(
          o.labDir,
          process.execPath,
          [process.argv[1]!, '_apply', verb, '--lab-dir', o.labDir],
          readInput(o.filename),
        );
      });
  }

  program
    .command('_apply <verb>', { hidden: true })
    .addOption(labDirOption())
    .action(async (verb: 'apply' | 'delete', o) => {
      const { labApply } = await import('./apply.js');
      const { layout } = requireLab(o.labDir);
      const lines = await labApply(
        readFileSync(0, 'utf8'),
        {
          kubeconfig: path.join(o.labDir, 'k8s', 'admin.kubeconfig'),
          nodeNames: layout.nodes.map((n) => n.name),
          env: process.env,
        },
        verb,
      );
      process.stdout.write(lines.map((l) => `${l}\n`).join(''));
    });

  program
    .command('probe')
    .description('print the pod-to-pod reachability matrix')
    .addOption(labDirOption())
    .option('--port <port>', 'destination port', '80')
    .addOption(new Option('--protocol <p>', 'protocol').choices(['TCP', 'UDP', 'SCTP']).default('TCP'))
    .option('--from <ns/pod>', 'only from this pod (or NS/* for a namespace)')
    .option('--to <ns/pod>', 'only to this pod (or NS/* for a namespace)')
    .option('--ipv6', 'probe the pods IPv6 addresses', false)
    .addOption(new Option('-o, --output <format>', 'output').choices(['table', 'json']).default('table'))
    .action(async (o) => {
      const { probeMatrix, ProbeSkipped } = await import('./probe.js');
      const { formatMatrix } = await import('./matrix.js');
      try {
        const m = await probeMatrix(o.labDir, {
          port: Number(o.port),
          protocol: o.protocol,
          from: o.from,
          to: o.to,
          family: o.ipv6 ? 6 : 4,
        });
        process.stdout.write(o.output === 'json' ? JSON.stringify(m, null, 2) + '\n' : formatMatrix(m) + '\n');
      } catch (e) {
        if (e instanceof ProbeSkipped) process.stdout.write(`${e.message}\n`);
        else throw e;
      }
    });

  program
    .command('demo')
    .description('bring up a 3-node lab and walk through pools and policy')
    .addOption(labDirOption())
    .action(async (o) => {
      const { runDemo } = await import('./demo.js');
      await runDemo(o.labDir, binDir(), selfCommand());
    });

  program
    .command('kubelet', { hidden: true })
    .requiredOption('--node <name>')
    .addOption(labDirOption())
    .action(async (o) => {
      const { LabKubelet } = await import('./kubelet.js');
      const { layout } = requireLab(o.labDir);
      const node = layout.nodes.find((n) => n.name === o.node);
      if (!node) throw new Error(`no node ${o.node} in the lab`);
      const { nodePaths } = await import('./layout.js');
      const p = nodePaths(node);
      const kubelet = new LabKubelet({
        labDir: o.labDir,
        nodeName: node.name,
        kubeconfig: path.join(o.labDir, 'k8s', 'admin.kubeconfig'),
        conflistFile: path.join(p.cniNetDir, '10-calico.conflist'),
        cniPath: [p.cniBinDir, '/usr/lib/cni'],
        cniEnv: Object.fromEntries(
          Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
        ),
        podNetnsPrefix: layout.options.prefix,
        podAgentCommand: selfCommand(),
        log: (m) => process.stderr.write(`${new Date().toISOString()} kubelet ${node.name}: ${m}\n`),
      });
      await kubelet.start();
      await new Promise(() => undefined);
    });

  program
    .command('pod-agent', { hidden: true })
    .requiredOption('--socket <path>')
    .option('--port <port/proto...>', 'ports to serve', [])
    .action(async (o) => {
      const { runPodAgent } = await import('./pod-agent.js');
      const ports = (o.port as string[]).map((p) => {
        const [port, protocol] = p.split('/');
        return { port: Number(port), protocol: (protocol ?? 'TCP').toUpperCase() as 'TCP' | 'UDP' };
      });
      await runPodAgent({ controlSocket: o.socket, ports });
      await new Promise(() => undefined);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    if (code?.startsWith('commander.')) return 2;
    throw e;
  }
  return exitCode;
}
