// Waiting on a running network's chain: until node 1 (or every node) has made progress.
import { rpcCall } from '../model-client.ts'
import { NetworkError } from './errors.ts'
import type { NetworkState } from './layout.ts'
import { sleep } from './processes.ts'

/** Resolve once the execution head of every listed node (default: node 1) is at least `number`. */
export async function waitForBlocks(
  state: NetworkState,
  number: number,
  opts: { timeoutMs: number; nodes?: number[]; signal?: AbortSignal },
): Promise<void> {
  const nodes = opts.nodes ?? [0]
  const deadline = Date.now() + opts.timeoutMs
  let heads: number[] = []
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted()
    heads = await Promise.all(
      nodes.map((i) =>
        rpcCall<string>(`http://127.0.0.1:${state.nodes[i].el.rpcPort}`, 'eth_blockNumber').then(Number, () => -1),
      ),
    )
    if (heads.every((h) => h >= number)) return
    await sleep(1000)
  }
  throw new NetworkError(
    'NO_BLOCKS',
    `The network made no block ${number} in ${Math.round(opts.timeoutMs / 1000)} s (heads: ${heads.join(', ')}). Check the logs in ${state.dir}/logs (Lodestar cl-*.log: Engine API errors; el-*.log).`,
  )
}
