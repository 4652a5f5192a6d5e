// Applies the NAT-outgoing ruleset (our own `table ip calico` / `table ip6 calico`) with one atomic `nft -f`,
// only when the rendered text changed since the last successful apply.
import { run } from '../common/exec.js';
import { renderNatRuleset, type NatRenderInput } from './render/nat-ruleset.js';

export class NatTable {
  private applied?: string;

  constructor(private readonly netns?: string) {}

  async apply(input: NatRenderInput): Promise<boolean> {
    const script = renderNatRuleset(input);
    if (script === this.applied) return false;
    const [cmd, args] = this.netns ? ['ip', ['netns', 'exec', this.netns, 'nft', '-f', '-']] : ['nft', ['-f', '-']];
    await run(cmd, args, { input: script });
    this.applied = script;
    return true;
  }

  /** Removes both tables (calico-node shutdown with cleanup, tests). */
  async remove(): Promise<void> {
    const script = ['ip', 'ip6'].map((t) => `table ${t} calico {}\ndelete table ${t} calico\n`).join('');
    const [cmd, args] = this.netns ? ['ip', ['netns', 'exec', this.netns, 'nft', '-f', '-']] : ['nft', ['-f', '-']];
    await run(cmd, args, { input: script });
    this.applied = undefined;
  }
}
