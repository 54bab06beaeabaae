// The chain's status as the server reports it (the chain_status tool and the lattice://chain/status resource).
import type { McpContext } from './context.ts'

/** Head, gas price, the node's profile and registry index, and whether this server can send. */
export async function chainStatus(ctx: McpContext): Promise<Record<string, unknown>> {
  const [block, gasPrice] = await Promise.all([
    ctx.call<{ number: string; hash: string; timestamp: string }>('eth_getBlockByNumber', ['latest', false]),
    ctx.call<string>('eth_gasPrice'),
  ])
  // lattice_nodeInfo says more, but the status must not fail on a node that lacks it
  const info = await ctx
    .call<Record<string, any>>('lattice_nodeInfo')
    .catch(() => undefined as Record<string, any> | undefined)
  return {
    rpcUrl: ctx.url,
    chainId: `0x${ctx.chainId.toString(16)}`,
    head: { number: Number(BigInt(block.number)), hash: block.hash, timestamp: Number(BigInt(block.timestamp)) },
    gasPrice: BigInt(gasPrice).toString(),
    ...(info
      ? {
          clientVersion: info.clientVersion,
          consensusProfile: info.consensusProfile,
          stateProfile: info.stateProfile,
          registry: {
            address: info.registry.address,
            indexedBlock: Number(BigInt(info.registry.indexedBlock)),
            models: info.registry.models,
          },
          devnet: info.devnet,
        }
      : {}),
    signer: ctx.signer ? (await ctx.signer.getAddress()).toLowerCase() : null,
    readOnly: ctx.signer === undefined,
  }
}
