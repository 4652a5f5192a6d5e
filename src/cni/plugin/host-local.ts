// host-local's `usePodCidr` / `usePodCidrIPv6` subnets (cni.md §B.5 step 9): replaced with the Kubernetes Node's
// podCIDRs on ADD, and with dummy 0.0.0.0/0 and ::/0 on DEL (host-local only needs a valid config to release). Pure.
import { CniError } from '../skel/types.js';

type Ipam = Record<string, unknown>;

function pick(cidrs: string[], v6: boolean, owner: string): string {
  const c = cidrs.find((x) => x.includes(':') === v6);
  if (!c) throw new CniError(7, `ipam usePodCidr${v6 ? 'IPv6' : ''}: ${owner} has no IPv${v6 ? 6 : 4} podCIDR`);
  return c;
}

/** Replaces every usePodCidr / usePodCidrIPv6 subnet (top-level `subnet` and `ranges[][].subnet`). */
export function substitutePodCidr(ipam: Ipam, podCidrs: string[], owner: string): Ipam {
  const swap = (v: unknown): unknown =>
    v === 'usePodCidr' ? pick(podCidrs, false, owner) : v === 'usePodCidrIPv6' ? pick(podCidrs, true, owner) : v;
  const out: Ipam = { ...ipam };
  if ('subnet' in out) out.subnet = swap(out.subnet);
  if (Array.isArray(out.ranges)) {
    out.ranges = (out.ranges as unknown[][]).map((set) =>
      (Array.isArray(set) ? set : []).map((r) =>
        r && typeof r === 'object' ? { ...(r as Ipam), subnet: swap((r as Ipam).subnet) } : r,
      ),
    );
  }
  return out;
}

/** DEL: host-local releases by container ID; any valid subnet will do. */
export const dummyPodCidrs = ['0.0.0.0/0', '::/0'];
