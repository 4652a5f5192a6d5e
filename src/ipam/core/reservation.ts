// IPReservations: CIDRs IPAM never hands out. Read from v3 IPReservation resources (spec.reservedCIDRs); pure.
import { cidrContainsCidr, cidrContainsIp, isCidr, parseCidr, type Cidr, type IpAddress } from '../../net/ip.js';

export class ReservationSet {
  constructor(readonly cidrs: Cidr[]) {}

  static fromResources(resources: any[]): ReservationSet {
    const cidrs: Cidr[] = [];
    for (const r of resources) {
      for (const text of r?.spec?.reservedCIDRs ?? []) {
        if (typeof text === 'string' && isCidr(text)) cidrs.push(parseCidr(text));
      }
    }
    return new ReservationSet(cidrs);
  }

  isReserved = (ip: IpAddress): boolean => this.cidrs.some((c) => cidrContainsIp(c, ip));

  /** True when every address of block is reserved (such blocks are skipped when claiming). */
  coversWholly(block: Cidr): boolean {
    return this.cidrs.some((c) => cidrContainsCidr(c, block));
  }
}
