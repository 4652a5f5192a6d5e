// CNI spec versions: the list our plugins support, semver comparison, and the config-version decoding skel does
// (a missing or empty `cniVersion` counts as 0.1.0). Pure.
import { CniError } from './types.js';

/** Every spec version the calico and calico-ipam plugins accept, in the order VERSION prints them. */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** The version skel reports as its own in the VERSION answer. */
export const CURRENT_VERSION = '1.1.0';

/** libcni's version parsing: one to three dot-separated integers ("1.0" is 1.0.0); its error texts. */
function parseSemver(v: string): [number, number, number] {
  const parts = v.split('.');
  if (parts.length >= 4) throw new CniError(6, `invalid version "${v}": too many parts`);
  const out: [number, number, number] = [0, 0, 0];
  const which = ['major', 'minor', 'micro'] as const;
  parts.forEach((p, i) => {
    if (!/^[+-]?\d+$/.test(p)) {
      throw new CniError(
        6,
        `failed to convert ${which[i]} version part "${p}": strconv.Atoi: parsing "${p}": invalid syntax`,
      );
    }
    out[i] = Number(p);
  });
  return out;
}

/** a >= b; either unparsable -> code 6, as skel's version comparison. */
export function versionAtLeast(a: string, b: string): boolean {
  const [x, y] = [parseSemver(a), parseSemver(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return true;
}

/** The cniVersion a config declares; missing/empty -> 0.1.0. A non-string value is a decode failure (code 6). */
export function configVersion(config: Record<string, unknown>): string {
  const v = config.cniVersion;
  if (v === undefined || v === null || v === '') return '0.1.0';
  if (typeof v !== 'string') throw new CniError(6, 'json: cannot unmarshal cniVersion into Go value of type string');
  return v;
}

/** Membership (not a range) in the supported list, as skel's reconciler. */
export function requireSupported(version: string, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  if (!supported.includes(version)) {
    throw new CniError(
      1,
      'incompatible CNI versions',
      `config is "${version}", plugin supports [${supported.map((s) => `"${s}"`).join(' ')}]`,
    );
  }
}
