// The work behind each `calicoctl ipam` subcommand, as functions returning the text and exit code Calico's calicoctl
// would give, so tests call them directly and the commander wiring (./index.ts) stays thin.
import { ConflictError, NotFoundError, type Datastore, type KVPair } from '../../datastore/types.js';
import { resourceKey, resourcePrefix } from '../../datastore/keys.js';
import { ResourceClient } from '../../datastore/resources.js';
import { IpamClient } from '../../ipam/client.js';
import { IpamStore } from '../../ipam/store.js';
import { allocationsOf, inUseCount, type AllocationBlock } from '../../ipam/core/block.js';
import type { ReservationSet } from '../../ipam/core/reservation.js';
import {
  cidrContainsCidr,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  formatIp,
  isIp,
  parseCidr,
  parseIp,
  type Cidr,
} from '../../net/ip.js';
import {
  decodeCheckReport,
  encodeCheckReport,
  runIpamCheck,
  type IpamCheckReport,
  type ReportAllocation,
} from '../../ipam/check.js';
import { CALICOCTL_VERSION } from '../version.js';
import { boxedTable, goG5, withPercent } from './table.js';

export interface CommandOutput {
  code: number;
  stdout: string;
  stderr?: string;
}

function reservedIn(c: Cidr, reservations: ReservationSet): number {
  let n = 0n;
  for (const r of reservations.cidrs) {
    if (!cidrsOverlap(r, c)) continue;
    n += cidrContainsCidr(c, r) ? cidrSize(r) : cidrSize(c);
  }
  return Number(n);
}

const byBlockAddress = (x: { value: AllocationBlock }, y: { value: AllocationBlock }): number =>
  parseCidr(x.value.cidr).address < parseCidr(y.value.cidr).address ? -1 : 1;

function blockRow(b: AllocationBlock, reservations: ReservationSet): string[] {
  const c = parseCidr(b.cidr);
  const total = Number(cidrSize(c));
  const used = inUseCount(b);
  const reserved = reservedIn(c, reservations);
  return [
    'Block',
    formatCidr(c),
    goG5(total),
    withPercent(used, total),
    withPercent(reserved, total),
    withPercent(Math.max(0, total - used - reserved), total),
  ];
}

/** Calico's argutils.ValidateIP: the refusal goes to stdout, exit 1. */
const invalidIp = (text: string): CommandOutput => ({
  code: 1,
  stdout: `Error executing command: invalid IP address specified: ${text}\n`,
});

export async function ipamShow(
  ds: Datastore,
  opts: { ip?: string; showBlocks?: boolean; showBorrowed?: boolean; showConfiguration?: boolean },
): Promise<CommandOutput> {
  const ipam = new IpamClient(ds);
  const store = new IpamStore(ds);
  if (opts.ip !== undefined) {
    if (!isIp(opts.ip)) return invalidIp(opts.ip);
    const ip = formatIp(parseIp(opts.ip));
    const a = await ipam.getAllocation(ip);
    if (!a) {
      const c = await ipam.getCooling(ip);
      if (!c) return { code: 0, stdout: `${ip} is not assigned\n` };
      const lines = [
        `${ip} is not assigned: released at ${c.releasedAt}, cooling down until ${c.availableAt}`,
        `Previous Handle ID: ${c.handleId ?? '<none>'}`,
      ];
      return { code: 0, stdout: lines.join('\n') + '\n' };
    }
    const keys = Object.keys(a.attrs).sort();
    const lines = [`IP ${ip} is in use`, `Handle ID: ${a.handleId ?? '<none>'}`];
    if (keys.length) {
      lines.push('Active Owner Attributes:');
      for (const k of keys) lines.push(`  ${k}: ${a.attrs[k]}`);
    } else lines.push('No Active Owner attributes defined');
    return { code: 0, stdout: lines.join('\n') + '\n' };
  }
  if (opts.showConfiguration) {
    const c = await ipam.getConfig();
    return {
      code: 0,
      stdout: boxedTable(
        ['PROPERTY', 'VALUE'],
        [
          ['StrictAffinity', String(c.strictAffinity)],
          ['AutoAllocateBlocks', String(c.autoAllocateBlocks)],
          ['MaxBlocksPerHost', String(c.maxBlocksPerHost)],
          ['IPCooldownSeconds', String(c.ipCooldownSeconds)],
        ],
      ),
    };
  }
  const [blocks, pools, reservations] = await Promise.all([
    store.listBlocks(),
    store.listPools(),
    store.listReservations(),
  ]);
  if (opts.showBorrowed) return showBorrowed(blocks);
  const rows: string[][] = [];
  // Pools in the datastore's order (by name), as Calico's GetUtilization lists them.
  for (const p of [...pools].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    const total = Number(cidrSize(p.cidr));
    const inPool = blocks.filter((b) => cidrContainsCidr(p.cidr, parseCidr(b.value.cidr)));
    const used = inPool.reduce((n, b) => n + inUseCount(b.value), 0);
    const reserved = reservedIn(p.cidr, reservations);
    const free = Math.max(0, total - used - reserved);
    rows.push([
      'IP Pool',
      p.cidrText,
      goG5(total),
      withPercent(used, total),
      withPercent(reserved, total),
      withPercent(free, total),
    ]);
    if (opts.showBlocks) {
      for (const b of inPool.sort(byBlockAddress)) rows.push(blockRow(b.value, reservations));
    }
  }
  if (opts.showBlocks) {
    // Blocks whose pool is gone: Calico lists them last, under no pool row.
    const orphans = blocks.filter((b) => !pools.some((p) => cidrContainsCidr(p.cidr, parseCidr(b.value.cidr))));
    for (const b of orphans.sort(byBlockAddress)) rows.push(blockRow(b.value, reservations));
  }
  return {
    code: 0,
    stdout: boxedTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS RESERVED', 'IPS FREE'], rows, [2, 3, 4, 5]),
  };
}

/** The name after `host:` or `virtual:` in a block's affinity, as calicoctl prints it in BLOCK OWNER. */
function blockOwnerName(affinity: string | null | undefined): string {
  if (!affinity) return '';
  const parts = affinity.split(':');
  return parts.length === 2 ? parts[1] : parts[0];
}

/**
 * `ipam show --show-borrowed`: allocations whose `node` attribute differs from the block's owner (or whose block has
 * no owner). Allocations without a `node` attribute cannot be classified; Calico counts them in a note instead.
 */
function showBorrowed(blocks: { value: AllocationBlock }[]): CommandOutput {
  const rows: string[][] = [];
  let unclassified = 0;
  for (const b of blocks) {
    const owner = blockOwnerName(b.value.affinity);
    for (const a of allocationsOf(b.value)) {
      if (!Object.hasOwn(a.attrs, 'node')) {
        unclassified++;
        continue;
      }
      const node = a.attrs.node;
      if (node === owner) continue;
      const ns = a.attrs.namespace ?? '';
      let type = '';
      let to = '';
      if (Object.hasOwn(a.attrs, 'pod')) {
        type = 'pod';
        to = `${ns}/${a.attrs.pod}`;
      } else if (Object.hasOwn(a.attrs, 'type')) type = a.attrs.type;
      rows.push([formatIp(a.ip), node, b.value.cidr, owner, type, to]);
    }
  }
  let stdout = boxedTable(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows);
  if (unclassified) {
    stdout += `\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n`;
  }
  return { code: 0, stdout };
}

export async function ipamCheck(
  ds: Datastore,
  opts: { output?: string; showAllIps?: boolean; showProblemIps?: boolean },
  writeFile: (path: string, text: string) => Promise<void>,
): Promise<CommandOutput> {
  const r = await runIpamCheck(ds, { ...opts, version: CALICOCTL_VERSION });
  // As Calico: the report is written after the last line, without a word about it.
  if (opts.output) await writeFile(opts.output, encodeCheckReport(r.report));
  // Calico's check returns success whatever it found; only load errors exit non-zero.
  return { code: 0, stdout: r.lines.join('\n') + '\n' };
}

export async function ipamReleaseIp(ds: Datastore, ipText: string): Promise<CommandOutput> {
  if (!isIp(ipText)) return invalidIp(ipText);
  const ip = formatIp(parseIp(ipText));
  const unallocated = await new IpamClient(ds).releaseIps([{ ip }]);
  if (unallocated.length) return { code: 1, stdout: '', stderr: `IP address ${ip} is not assigned\n` };
  return { code: 0, stdout: `Successfully released IP address ${ip}\n` };
}

export interface ReportFile {
  path: string;
  text: string;
}

/**
 * `ipam release --from-report=FILE...`: releases the addresses every report marks as leaked (the intersection when
 * several reports are given), each with its recorded handle and sequence number so a re-used address is refused,
 * then deletes the leaked handles still at their recorded revision. Calico's refusals: another cluster's report
 * (even with --force); a report from another calicoctl version, or a datastore that is not locked, unless --force;
 * reports none of which matches the current ClusterInformation revision.
 */
export async function ipamReleaseFromReport(
  ds: Datastore,
  files: ReportFile[],
  force: boolean,
  version: string = CALICOCTL_VERSION,
): Promise<CommandOutput> {
  const fail = (stdout: string, message: string): CommandOutput => ({ code: 1, stdout, stderr: `${message}\n` });
  const ci = await ds.get(resourceKey('ClusterInformation', 'default'));
  const spec = ci ? (JSON.parse(ci.value)?.spec ?? {}) : {};
  const guid = String(spec.clusterGUID ?? '');
  const ciRevision = ci ? String(ci.revision) : '';
  let out = '';
  let foundCurrent = false;
  const reports: IpamCheckReport[] = [];
  for (const f of files) {
    let r: IpamCheckReport;
    try {
      r = decodeCheckReport(f.text);
    } catch (e) {
      return fail(out, `${f.path}: ${(e as Error).message}`);
    }
    if (r.clusterGUID !== guid) {
      // Not overridable by --force: releasing another cluster's addresses would be disastrous.
      return fail(
        out,
        `cluster does not match the provided report (${f.path}): mismatched cluster GUID. Refusing to release`,
      );
    }
    if (r.version !== version) {
      if (!force) {
        return fail(
          out,
          `the provided report (${f.path}) was produced using a different version (${r.version}) of calicoctl. Refusing to release`,
        );
      }
      out += 'WARNING: Report was produced using a different version of calicoctl. Ignoring due to --force option\n';
    }
    if (r.clusterInformationRevision === ciRevision) foundCurrent = true;
    reports.push(r);
  }
  if (!foundCurrent) {
    return fail(
      out,
      'the provided reports are all stale - at least one should be up-to-date. Please generate a new report while the data store is locked and try again',
    );
  }
  if (spec.datastoreReady !== false) {
    if (!force) return fail(out, 'data store is not locked. Either lock the data store, or re-run with --force');
    out += 'WARNING: Data store is not locked. Ignoring due to --force option\n';
  }
  const { ips, handles } = mergeReports(reports);
  if (ips.length) {
    out += `Releasing ${ips.length} old IPs...\n`;
    const ipam = new IpamClient(ds);
    let unallocated = 0;
    let error: Error | undefined;
    for (const a of ips) {
      try {
        const un = await ipam.releaseIps([
          { ip: a.ip, handleId: a.handle ?? undefined, sequenceNumber: a.sequenceNumber ?? undefined },
        ]);
        unallocated += un.length;
      } catch (e) {
        error ??= e as Error;
      }
    }
    if (error) {
      out +=
        `An error occurred while releasing some IPs: ${error.message}.  ` +
        'Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.\n';
    } else out += `Released ${ips.length - unallocated} IPs successfully\n`;
    if (unallocated) out += `${unallocated} addresses marked as leaked in the report had already been cleaned up.\n`;
  } else out += "Report didn't contain any leaked IPs to clean up.\n";
  if (handles.length) {
    out += `Deleting ${handles.length} handles...\n`;
    out += "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n";
    let released = 0;
    let skipped = 0;
    let errors = 0;
    for (const h of handles) {
      const key = `/calico/ipam/v2/handle/${h.id}`;
      try {
        const cur = await ds.get(key);
        if (!cur || String(cur.revision) !== h.revision) {
          skipped++;
          out += 'x';
          continue;
        }
        await ds.delete(key, cur.revision);
        released++;
        out += '.';
      } catch (e) {
        if (e instanceof ConflictError || e instanceof NotFoundError) {
          skipped++;
          out += 'x';
        } else {
          errors++;
          out += `\nDeleting handle ${h.id} failed: ${(e as Error).message}.\n`;
        }
      }
    }
    out += `\nReleased ${released} handles; ${skipped} skipped; ${errors} errors.\n`;
  } else out += "Report didn't contain any handles to clean up.\n";
  out += 'You may now unlock the data store.\n';
  return { code: 0, stdout: out };
}

/** The leaked addresses and handles common to all reports (handles only where their revision did not change). */
function mergeReports(reports: IpamCheckReport[]): {
  ips: ReportAllocation[];
  handles: { id: string; revision: string }[];
} {
  let ips: Map<string, ReportAllocation> | undefined;
  let handles: Map<string, { id: string; revision: string }> | undefined;
  for (const r of reports) {
    const nextIps = new Map<string, ReportAllocation>();
    for (const [ip, list] of Object.entries(r.allocations)) {
      for (const a of list) {
        if (a.inUse || a.coolingDown) continue;
        if (ips && !ips.has(ip)) continue;
        nextIps.set(ip, a);
      }
    }
    ips = nextIps;
    const nextHandles = new Map<string, { id: string; revision: string }>();
    for (const h of r.leakedHandles) {
      if (!handles || handles.get(h.id)?.revision === h.revision) nextHandles.set(h.id, h);
    }
    handles = nextHandles;
  }
  return { ips: [...(ips?.values() ?? [])], handles: [...(handles?.values() ?? [])] };
}

/** Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. */
function goParseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

export async function ipamConfigure(
  ds: Datastore,
  opts: { strictAffinity?: string; maxBlocksPerHost?: string; ipCooldownSeconds?: string },
): Promise<CommandOutput> {
  const change: { strictAffinity?: boolean; maxBlocksPerHost?: number; ipCooldownSeconds?: number } = {};
  // An empty value counts as not given, as Calico's docopt parsing.
  if (opts.strictAffinity !== undefined && opts.strictAffinity !== '') {
    const b = goParseBool(opts.strictAffinity);
    if (b === undefined) {
      return { code: 1, stdout: '', stderr: 'invalid value. Use true or false to set strictaffinity\n' };
    }
    change.strictAffinity = b;
  }
  if (opts.maxBlocksPerHost !== undefined && opts.maxBlocksPerHost !== '') {
    const text = opts.maxBlocksPerHost;
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1 || n < -(2 ** 31)) {
      return { code: 1, stdout: '', stderr: 'invalid value for maxblockhost. Use a valid number\n' };
    }
    if (n < 0) {
      return {
        code: 1,
        stdout: '',
        stderr: `--max-blocks-per-host: must be between 0 and 1000000, got ${n}\n`,
      };
    }
    change.maxBlocksPerHost = n;
  }
  if (opts.ipCooldownSeconds !== undefined) {
    const text = opts.ipCooldownSeconds.trim();
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n > 1200) {
      return {
        code: 1,
        stdout: '',
        stderr: `--ip-cooldown-seconds: expected a whole number of seconds from 0 to 1200, got "${opts.ipCooldownSeconds}"\n`,
      };
    }
    change.ipCooldownSeconds = n;
  }
  if (!Object.keys(change).length) {
    return { code: 1, stdout: '', stderr: 'at least one configuration option must be specified\n' };
  }
  try {
    const ipam = new IpamClient(ds);
    const cur = await ipam.getConfig();
    const strict = change.strictAffinity ?? cur.strictAffinity;
    if ((change.maxBlocksPerHost ?? cur.maxBlocksPerHost) > 0 && !strict) {
      // Calico's SetIPAMConfig refusal, as calicoctl prints it.
      return { code: 1, stdout: '', stderr: 'error: MaxBlocksPerHost requires StrictAffinity to be enabled\n' };
    }
    const c = await ipam.setConfig(change);
    const said: string[] = [];
    if (change.strictAffinity !== undefined) said.push(`Successfully set StrictAffinity to: ${c.strictAffinity}`);
    if (change.maxBlocksPerHost !== undefined) said.push(`Successfully set MaxBlocksPerHost to: ${c.maxBlocksPerHost}`);
    if (change.ipCooldownSeconds !== undefined)
      said.push(`Successfully set IPCooldownSeconds to: ${c.ipCooldownSeconds}`);
    return { code: 0, stdout: said.join('\n') + '\n' };
  } catch (e) {
    return { code: 1, stdout: '', stderr: `${(e as Error).message}\n` };
  }
}

/**
 * `ipam split N --cidr=CIDR|--name=NAME`: replaces a pool by N equal pools `split-<name>-<i>` (datastore must be
 * locked). As Calico's: --name wins when both are given; a --cidr must equal the pool's spec.cidr as written; the
 * parts copy the pool's metadata (labels, annotations) and spec, enabled; the original is disabled first, deleted
 * last. Unlike Calico, every argument is checked before anything is written.
 */
export async function ipamSplit(
  ds: Datastore,
  countText: string,
  opts: { cidr?: string; name?: string },
): Promise<CommandOutput> {
  const fail = (message: string): CommandOutput => ({ code: 1, stdout: '', stderr: `${message}\n` });
  if (!/^[+-]?\d+$/.test(countText)) {
    return fail(
      `error reading number to split IP pools into. ${countText} is not a valid number: strconv.Atoi: parsing "${countText}": invalid syntax`,
    );
  }
  const n = Number(countText);
  if (!opts.cidr && !opts.name) {
    return fail('no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split');
  }
  const ci = await ds.get(resourceKey('ClusterInformation', 'default'));
  if (!ci || JSON.parse(ci.value)?.spec?.datastoreReady !== false) {
    return fail(
      'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order split the IP pools',
    );
  }
  let kv: KVPair | undefined;
  if (opts.name) {
    kv = await ds.get(resourceKey('IPPool', opts.name));
    if (!kv) {
      return fail(
        `unable to find IP pool with name ${opts.name}: resource does not exist: IPPool(${opts.name}) with error: <nil>`,
      );
    }
  } else {
    for (const item of (await ds.list(resourcePrefix('IPPool'))).items) {
      if (JSON.parse(item.value)?.spec?.cidr === opts.cidr) kv = item;
    }
    if (!kv) return fail(`unable to find IP pool  covering the specified CIDR ${opts.cidr}`);
  }
  const res = JSON.parse(kv.value);
  const name: string = res.metadata.name;
  const cidrText = String(res.spec.cidr);
  const splitError = (why: string) => fail(`error splitting the CIDR ${cidrText} into ${n} CIDRs: ${why}`);
  if (n < 2 || !Number.isSafeInteger(n) || (n & (n - 1)) !== 0) {
    return splitError(`number to split CIDR into is not a valid power of 2: ${n}`);
  }
  const cidr = parseCidr(cidrText);
  const bits = Math.log2(n);
  const prefix = cidr.prefix + bits;
  const maxPrefix = cidr.family === 4 ? 32 : 128;
  if (prefix > maxPrefix) return splitError(`the CIDR ${cidrText} is not large enough to be split into ${n} parts`);
  const blockSize = Number(res.spec.blockSize ?? (cidr.family === 4 ? 26 : 122));
  if (prefix > blockSize) {
    // Calico would go on and write pools smaller than their blocks, which no allocation can use.
    return splitError(`each part (/${prefix}) would be smaller than the pool's /${blockSize} blocks`);
  }
  // Disable the original first so nothing new is allocated from it while the parts are created.
  res.spec.disabled = true;
  await ds.update(kv.key, JSON.stringify(res), kv.revision);
  const step = 1n << BigInt(maxPrefix - prefix);
  const resources = new ResourceClient(ds);
  const meta = { ...res.metadata };
  for (const k of ['uid', 'resourceVersion', 'generation', 'selfLink', 'creationTimestamp', 'generateName'])
    delete meta[k];
  let out = `IP Pool ${name} was successfully split into ${n} smaller pools.\n`;
  for (let i = 0; i < n; i++) {
    const part = formatCidr({ family: cidr.family, address: cidr.address + BigInt(i) * step, prefix });
    const partName = `split-${name.length + 7 + String(i).length > 253 ? name.slice(0, 245) : name}-${i}`;
    // Through the resource client, so each part gets its uid and creationTimestamp as any created pool.
    await resources.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { ...meta, name: partName },
      spec: { ...res.spec, cidr: part, disabled: false },
    });
    out += `Created ${partName} with CIDR ${part}.\n`;
  }
  const cur = await ds.get(kv.key);
  if (cur) await ds.delete(kv.key, cur.revision);
  out += 'Please refer to the documentation for final steps.\n';
  return { code: 0, stdout: out };
}
