// The identifier rules skel enforces on its inputs: container ID and network name characters, interface name
// length and characters, and the CNI_ARGS "K=V;K=V" syntax. Pure; each failure is a CniError with skel's code.
import { CniError } from './types.js';

const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** `/`, `:` or a character Go's unicode.IsSpace calls space (Unicode White_Space: like \s with U+0085, without U+FEFF). */
const GO_SPACE_OR_SEPARATOR = /[/:\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
/** Linux IFNAMSIZ - 1. */
export const MAX_IFNAME_LENGTH = 15;

export function validateContainerId(id: string): void {
  if (id === '') throw new CniError(3, 'missing containerID');
  if (!ID_PATTERN.test(id)) throw new CniError(4, 'invalid characters in containerID', id);
}

export function validateNetworkName(name: string): void {
  if (name === '') throw new CniError(7, 'missing network name');
  if (!ID_PATTERN.test(name)) throw new CniError(7, 'invalid characters found in network name', name);
}

export function validateInterfaceName(ifName: string): void {
  if (ifName === '') throw new CniError(4, 'interface name is empty');
  if (Buffer.byteLength(ifName) > MAX_IFNAME_LENGTH) {
    throw new CniError(
      4,
      'interface name is too long',
      `interface name should be less than ${MAX_IFNAME_LENGTH + 1} characters`,
    );
  }
  if (ifName === '.' || ifName === '..') throw new CniError(4, 'interface name is . or ..');
  if (GO_SPACE_OR_SEPARATOR.test(ifName)) {
    throw new CniError(4, 'interface name contains / or : or whitespace characters');
  }
}

/** CNI_ARGS `K1=V1;K2=V2` -> record; empty pieces are skipped, a piece without `=` is an error naming it (libcni's
 *  LoadArgs text). */
export function parseCniArgs(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const piece of raw.split(';')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq <= 0) throw new CniError(999, `ARGS: invalid pair "${piece}"`);
    out[piece.slice(0, eq)] = piece.slice(eq + 1);
  }
  return out;
}
