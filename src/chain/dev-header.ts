// Devnet choices for the headers of later blocks: evm_setBlockGasLimit (every later block) and
// anvil_setNextBlockBaseFeePerGas (the next block only), as anvil and Hardhat apply them. A chain without
// choices builds headers from the parent (the default, and the only case outside a devnet).
import type { Block } from '@ethereumjs/block'

interface DevHeader {
  gasLimit?: bigint
  nextBaseFee?: bigint
}

const byChain = new WeakMap<object, DevHeader>()

function of(chain: object): DevHeader {
  let h = byChain.get(chain)
  if (!h) {
    h = {}
    byChain.set(chain, h)
  }
  return h
}

/** evm_setBlockGasLimit: the gas limit of every later block. */
export function setBlockGasLimit(chain: object, gasLimit: bigint): void {
  of(chain).gasLimit = gasLimit
}

/** anvil_setNextBlockBaseFeePerGas: the base fee of the next block. */
export function setNextBlockBaseFee(chain: object, baseFee: bigint): void {
  of(chain).nextBaseFee = baseFee
}

/** The base fee the next block will have when one was set, else undefined (the parent decides). */
export function pinnedNextBaseFee(chain: object): bigint | undefined {
  return byChain.get(chain)?.nextBaseFee
}

/** Forget every choice (anvil_reset). */
export function clearDevHeader(chain: object): void {
  byChain.delete(chain)
}

/**
 * Header fields of a block built on `parent`: its gas limit, and a pinned base fee (used up here). Called by the
 * block builder (chain.ts).
 */
export function devHeaderFields(chain: object, parent: Block): { gasLimit: bigint; baseFeePerGas?: bigint } {
  const h = byChain.get(chain)
  const out: { gasLimit: bigint; baseFeePerGas?: bigint } = { gasLimit: h?.gasLimit ?? parent.header.gasLimit }
  if (h?.nextBaseFee !== undefined) {
    out.baseFeePerGas = h.nextBaseFee
    h.nextBaseFee = undefined
  }
  return out
}
