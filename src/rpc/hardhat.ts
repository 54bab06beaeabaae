// hardhat_* development methods: Hardhat's names for anvil.ts's handlers (anvil serves the same aliases), plus
// hardhat_metadata and evm_setBlockGasLimit's family, which Hardhat's network helpers and Ignition call.
import { setBlockGasLimit } from '../chain/dev-header.ts'
import type { DevState } from '../chain/dev-state.ts'
import type { LatticeNode } from '../chain/node.ts'
import { devHandlers, looseQuantity, metadata } from './anvil.ts'
import { paramList } from './codec.ts'
import { invalidParams } from './errors.ts'
import type { Handler, Handlers } from './types.ts'

/** Hardhat answers `true` where anvil answers null. */
const returnsTrue =
  (h: Handler): Handler =>
  async (p, ctx) => {
    await h(p, ctx)
    return true
  }

/** hardhat_* methods. */
export function hardhatMethods(node: LatticeNode, dev: DevState, clientVersion: string): Handlers {
  const h = devHandlers(node, dev)
  return {
    hardhat_setBalance: returnsTrue(h.setBalance),
    hardhat_setCode: returnsTrue(h.setCode),
    hardhat_setNonce: returnsTrue(h.setNonce),
    hardhat_setStorageAt: returnsTrue(h.setStorageAt),
    hardhat_impersonateAccount: returnsTrue(h.impersonate),
    hardhat_stopImpersonatingAccount: returnsTrue(h.stopImpersonating),
    hardhat_mine: returnsTrue(h.mine(true)),
    hardhat_getAutomine: h.getAutomine,
    hardhat_dropTransaction: async (p, ctx) => (await h.dropTransaction(p, ctx)) !== null,
    hardhat_setCoinbase: returnsTrue(h.setCoinbase),
    hardhat_setNextBlockBaseFeePerGas: returnsTrue(h.setNextBlockBaseFeePerGas),
    evm_setBlockGasLimit: async (p) => {
      const [g] = paramList(p, 'evm_setBlockGasLimit', 1, 1)
      const gasLimit = looseQuantity(g, 'gasLimit')
      // ethereumjs refuses a header below 5000 gas; a limit of 2^63 or more does not fit geth's header either
      if (gasLimit < 5000n || gasLimit >= 1n << 63n) throw invalidParams('invalid argument gasLimit: out of range')
      setBlockGasLimit(node.chain, gasLimit)
      return true
    },
    hardhat_reset: returnsTrue(h.reset),
    hardhat_setLoggingEnabled: async () => true,
    hardhat_metadata: async (p) => metadata(node, dev, clientVersion, p, 'hardhat_metadata'),
  }
}
