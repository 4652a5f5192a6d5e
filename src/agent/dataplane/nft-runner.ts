// Runs the `nft` program: applies one script as one atomic transaction (`nft -f -`) and lists our table as JSON.
// `commandPrefix` lets tests and the bench run nft inside a node namespace (`ip netns exec <ns>`) from outside it.
import { CommandError, run } from '../../common/exec.js';
import { TABLE_REF } from './nft-model.js';

export interface NftRunner {
  /** Applies the script atomically; rejects (and nothing is changed) when nft refuses any line. */
  apply(script: string): Promise<void>;
  /** `nft -j list table inet calico`, or undefined when the table does not exist. */
  listTable(): Promise<string | undefined>;
}

export class NftCommandRunner implements NftRunner {
  /** Runs nft (and, for the agent's interface monitor, ip) behind this prefix, e.g. `ip netns exec <ns>`. */
  constructor(readonly commandPrefix: readonly string[] = []) {}

  private cmd(args: string[]): [string, string[]] {
    const full = [...this.commandPrefix, 'nft', ...args];
    return [full[0]!, full.slice(1)];
  }

  async apply(script: string): Promise<void> {
    const [program, args] = this.cmd(['-f', '-']);
    try {
      await run(program, args, { input: script, timeoutMs: 60_000 });
    } catch (err) {
      if (err instanceof CommandError) {
        throw new Error(
          `nft transaction failed (nothing applied): ${err.stderr.trim().split('\n').slice(0, 6).join(' | ')}`,
        );
      }
      throw err;
    }
  }

  async listTable(): Promise<string | undefined> {
    const [program, args] = this.cmd(['-j', 'list', 'table', ...TABLE_REF.split(' ')]);
    try {
      return await run(program, args, { timeoutMs: 60_000 });
    } catch (err) {
      if (err instanceof CommandError && /No such file or directory/.test(err.stderr)) return undefined;
      throw err;
    }
  }
}
