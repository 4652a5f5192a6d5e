// calicoctl's resource commands on the commander program: get, create, apply, replace, delete, patch, label,
// validate, version — Calico's flags and aliases. Flags are mapped here; the work is in get.ts, actions.ts, patch.ts,
// label.ts. Every command prints its result and sets the exit code; it never throws past this file.
import type { Command } from 'commander';
import type { Resource } from '../api/resource.js';
import type { ResourceClient } from '../datastore/resources.js';
import { ensureInitialized } from '../datastore/resources.js';
import { executeAction, summarize, type CommandResult, type WriteAction } from './actions.js';
import { globalOptions, openDatastoreFor, openResourceClient } from './connect.js';
import { resolveKind, runGet } from './get.js';
import { decodeDocuments } from '../api/decode.js';
import { decodeInput, readInput, readOnlyMessage } from './input.js';
import { runLabel } from './label.js';
import { runPatch, type PatchType } from './patch.js';
import { CALICOCTL_VERSION, versionText } from './version.js';

function print(res: CommandResult): void {
  if (res.stdout) process.stdout.write(res.stdout);
  if (res.stderr) process.stderr.write(res.stderr);
  process.exitCode = res.code;
}

/** Opens the client, runs fn, prints; connection and unexpected errors exit 1 with their message. */
async function withClient(cmd: Command, fn: (client: ResourceClient) => Promise<CommandResult>): Promise<void> {
  let client: ResourceClient | undefined;
  try {
    client = await openResourceClient(globalOptions(cmd));
    print(await fn(client));
  } catch (e) {
    print({ code: 1, stdout: '', stderr: `${(e as Error).message}\n` });
  } finally {
    await client?.datastore.close();
  }
}

interface FileOpts {
  filename?: string;
  recursive?: boolean;
  namespace?: string;
  skipEmpty?: boolean;
}

/**
 * Reads and checks -f input; on any problem returns Calico's "Failed to execute command" result instead. A file
 * (or directory) without resources is an error unless --skip-empty, as Calico's.
 */
function loadFile(opts: FileOpts, action: string, identityOnly: boolean): Resource[] | CommandResult {
  const failed = (message: string, prefix = true): CommandResult => ({
    code: 1,
    stdout: '',
    stderr: `${prefix ? 'Failed to execute command: ' : ''}${message}\n`,
  });
  let sources;
  try {
    if (!opts.filename) return failed('no resources given: use -f FILE|DIR|-', false);
    sources = readInput(opts.filename, Boolean(opts.recursive));
  } catch (e) {
    return failed((e as Error).message);
  }
  if (!opts.skipEmpty) {
    const empty = sources.find((s) => isEmptyInput(s.text));
    if (empty) return failed(`No resources specified in file ${empty.source}`, false);
    if (!sources.length) return failed(`No resources specified in directory ${opts.filename}`, false);
  }
  try {
    return decodeInput(sources, { namespace: opts.namespace, action, identityOnly });
  } catch (e) {
    return failed((e as Error).message);
  }
}

/** No documents at all (syntax errors are reported by decodeInput, so they do not count as empty). */
function isEmptyInput(text: string): boolean {
  try {
    return decodeDocuments(text).length === 0;
  } catch {
    return false;
  }
}

const isResult = (v: Resource[] | CommandResult): v is CommandResult => !Array.isArray(v);

function writeCommand(program: Command, action: Exclude<WriteAction, 'delete'>, description: string): Command {
  const c = program
    .command(action)
    .description(description)
    .option('-f, --filename <FILE>', 'file, directory (all .yaml/.yml/.json in it) or - for stdin')
    .option('-R, --recursive', 'process the directory given with -f recursively')
    .option('-n, --namespace <NS>', 'namespace for namespaced resources that give none (default "default")')
    .option('--skip-empty', 'do not fail on files or directories that hold no resources');
  if (action === 'create') c.option('--skip-exists', 'do not fail on resources that already exist');
  return c.action(async (opts: FileOpts & { skipExists?: boolean }, cmd: Command) => {
    const resources = loadFile(opts, action, false);
    if (isResult(resources)) return print(resources);
    await withClient(cmd, async (client) => {
      // As Calico's tryEnsureInitialized: a failure here does not fail the user's command.
      if (resources.length) await ensureInitialized(client).catch(() => undefined);
      const results = await executeAction(client, action, resources, { skipExists: opts.skipExists });
      return summarize(action, results);
    });
  });
}

export function registerResourceCommands(program: Command): void {
  writeCommand(program, 'create', 'Create a resource by file, directory or stdin');
  writeCommand(program, 'apply', 'Apply a resource by file, directory or stdin (create it or update it)');
  writeCommand(program, 'replace', 'Replace existing resources by file, directory or stdin');

  program
    .command('delete [KIND] [NAME...]')
    .description('Delete resources by file, directory, stdin or by kind and names')
    .option('-f, --filename <FILE>', 'file, directory or - for stdin naming the resources to delete')
    .option('-R, --recursive', 'process the directory given with -f recursively')
    .option('-n, --namespace <NS>', 'namespace of namespaced resources (default "default")')
    .option('-s, --skip-not-exists', 'do not fail on resources that do not exist')
    .option('--skip-empty', 'do not fail on files or directories that hold no resources')
    .action(async (kind: string | undefined, names: string[], opts: FileOpts & { skipNotExists?: boolean }, cmd) => {
      let resources: Resource[];
      if (opts.filename) {
        if (kind) return print(usage('delete: give either -f or KIND NAME..., not both'));
        const loaded = loadFile(opts, 'delete', true);
        if (isResult(loaded)) return print(loaded);
        resources = loaded;
      } else {
        if (!kind || !names.length) return print(usage('delete: give KIND and at least one NAME, or -f FILE'));
        let info;
        try {
          info = resolveKind(kind);
        } catch (e) {
          return print(usage((e as Error).message));
        }
        if (info.readOnly) return print(usage(readOnlyMessage('delete', info.kind)));
        if (!info.namespaced && opts.namespace) return print(usage(`${info.kind} is not namespaced`));
        resources = names.map((name) => ({
          apiVersion: 'projectcalico.org/v3',
          kind: info.kind,
          metadata: { name, ...(info.namespaced ? { namespace: opts.namespace ?? 'default' } : {}) },
          spec: {},
        }));
      }
      await withClient(cmd, async (client) =>
        summarize('delete', await executeAction(client, 'delete', resources, { skipNotExists: opts.skipNotExists })),
      );
    });

  program
    .command('get [KIND] [NAME...]')
    .description('Display resources by kind (and names) or by file')
    .option('-f, --filename <FILE>', 'file, directory or - for stdin naming the resources to get')
    .option('-R, --recursive', 'process the directory given with -f recursively')
    .option(
      '-o, --output <FORMAT>',
      'ps, wide, yaml, json, name, custom-columns=COL,..., go-template=TEMPLATE or go-template-file=FILE',
      'ps',
    )
    .option('-n, --namespace <NS>', 'namespace of namespaced resources (default "default")')
    .option('-A, --all-namespaces', 'list namespaced resources of every namespace')
    .option('--export', 'named resources only: leave out namespace, uid, resourceVersion, creationTimestamp')
    .option('--skip-empty', 'do not fail on files or directories that hold no resources')
    .action(
      async (
        kind: string | undefined,
        names: string[],
        opts: FileOpts & { output: string; allNamespaces?: boolean; export?: boolean },
        cmd: Command,
      ) => {
        let fromFile: Resource[] | undefined;
        if (opts.filename) {
          const loaded = loadFile(opts, 'get', true);
          if (isResult(loaded)) return print(loaded);
          fromFile = loaded;
        }
        await withClient(cmd, (client) =>
          runGet(client, {
            kind,
            names,
            fromFile,
            namespace: opts.namespace,
            allNamespaces: opts.allNamespaces,
            output: opts.output,
            export: opts.export,
          }),
        );
      },
    );

  program
    .command('patch <KIND> <NAME>')
    .description('Patch a resource in place')
    .requiredOption('-p, --patch <PATCH>', 'the patch, JSON or YAML')
    .option('-t, --type <TYPE>', 'strategic, merge or json', 'strategic')
    .option('-n, --namespace <NS>', 'namespace of a namespaced resource (default "default")')
    .action(async (kind: string, name: string, opts: { patch: string; type: string; namespace?: string }, cmd) => {
      if (!['strategic', 'merge', 'json'].includes(opts.type)) {
        return print(usage(`type: must be strategic, merge or json, got "${opts.type}"`));
      }
      await withClient(cmd, (client) =>
        runPatch(client, { kind, name, namespace: opts.namespace, patch: opts.patch, type: opts.type as PatchType }),
      );
    });

  program
    .command('label <KIND> <NAME> <LABEL>')
    .description('Add, update (--overwrite) or remove (--remove) a label of a resource')
    .option('--overwrite', 'change the value of a label that is already present')
    .option('--remove', 'remove the label (LABEL is then only the key)')
    .option('-n, --namespace <NS>', 'namespace of a namespaced resource (default "default")')
    .action(
      async (
        kind: string,
        name: string,
        label: string,
        opts: { overwrite?: boolean; remove?: boolean; namespace?: string },
        cmd: Command,
      ) => {
        await withClient(cmd, (client) =>
          runLabel(client, {
            kind,
            name,
            label,
            namespace: opts.namespace,
            overwrite: opts.overwrite,
            remove: opts.remove,
          }),
        );
      },
    );

  program
    .command('validate')
    .description('Check resources by file, directory or stdin without writing anything')
    .option('-f, --filename <FILE>', 'file, directory or - for stdin')
    .option('-R, --recursive', 'process the directory given with -f recursively')
    .option('-n, --namespace <NS>', 'namespace for namespaced resources that give none (default "default")')
    .action((opts: FileOpts) => {
      // Read-only kinds are reported as an apply would report them.
      const loaded = loadFile(opts, 'apply', false);
      if (isResult(loaded)) return print(loaded);
      const kinds = new Set(loaded.map((r) => r.kind));
      const kindText = kinds.size === 1 ? ` '${[...kinds][0]}'` : '';
      print({ code: 0, stdout: `Successfully validated ${loaded.length}${kindText} resource(s)\n`, stderr: '' });
    });

  program
    .command('version')
    .description('Display the version of this binary and of the cluster')
    .option('--poll <DURATION>', 'accepted for compatibility; ignored')
    .action(async (_opts: unknown, cmd: Command) => {
      let ds;
      try {
        ds = await openDatastoreFor(globalOptions(cmd));
        const { ResourceClient } = await import('../datastore/resources.js');
        const info = await new ResourceClient(ds).find('ClusterInformation', 'default');
        print({ code: 0, stdout: versionText(info?.spec ?? {}), stderr: '' });
      } catch (e) {
        print({
          code: 1,
          stdout: versionText(),
          stderr: `Unable to retrieve Cluster Version or Type: ${(e as Error).message}\n`,
        });
      } finally {
        await ds?.close();
      }
    });
}

function usage(message: string): CommandResult {
  return { code: 1, stdout: '', stderr: `${message}\n` };
}

export { CALICOCTL_VERSION };
