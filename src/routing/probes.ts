// `calico-node -bird-live` and `-bird-ready`: exit 0 or 1 with a one-line reason. Live = BIRD answers on its socket;
// ready = live and every BGP session Established (each one that is not is named, with its state and why).
import { readPeerStatus } from './bird-status.js';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export async function birdLive(socketPath: string): Promise<ProbeResult> {
  try {
    await readPeerStatus(socketPath);
    return { ok: true, message: 'BIRD is live' };
  } catch (err) {
    return { ok: false, message: `BIRD is not live: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export async function birdReady(socketPath: string): Promise<ProbeResult> {
  let peers;
  try {
    peers = await readPeerStatus(socketPath);
  } catch (err) {
    return { ok: false, message: `BIRD is not ready: ${err instanceof Error ? err.message : String(err)}` };
  }
  const down = peers.filter((p) => p.bgpState !== 'Established');
  if (down.length === 0) return { ok: true, message: `BIRD is ready: ${peers.length} BGP session(s) Established` };
  const why = down.map((p) => `${p.address} (${[p.state, p.bgpState, p.info].filter(Boolean).join(', ')})`);
  return { ok: false, message: `BIRD is not ready: BGP not established with ${why.join(', ')}` };
}
