// InferenceVerifier's ring and checkpoints, and its proof check against src/proofs/merkle.ts, on a bare EVM.
import { createEVM } from '@ethereumjs/evm'
import {
  bigIntToBytes,
  bytesToHex,
  concatBytes,
  createAddressFromString,
  hexToBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { SYSTEM_ADDRESS } from '../../src/chain/inference-roots.ts'
import type { ProofRecord } from '../../src/proofs/merkle.ts'
import { inferenceProof, inferenceRoot } from '../../src/proofs/merkle.ts'
import { compileContractsCached } from '../helpers/compile-cache.ts'

const h = (n: number | bigint) => `0x${n.toString(16).padStart(64, '0')}`

describe('InferenceVerifier on the EVM', () => {
  it('keeps a ring of 8191 roots plus every 1024th block, takes writes only from the system address', async () => {
    const art = compileContractsCached().InferenceVerifier
    const iface = new Interface(art.abi as any)
    const evm = await createEVM()
    const to = createAddressFromString('0xa110000000000000000000000000000000000002')
    await evm.stateManager.putCode(to, hexToBytes(art.deployedBytecode))
    const write = async (n: bigint, root: string, caller = SYSTEM_ADDRESS) => {
      const r = await evm.runCall({
        caller: createAddressFromString(caller),
        to,
        data: concatBytes(setLengthLeft(bigIntToBytes(n), 32), hexToBytes(root as `0x${string}`)),
        gasLimit: 1_000_000n,
        skipNonceIncrement: true,
      })
      return r.execResult.exceptionError === undefined
    }
    const call = async (fn: string, args: unknown[]) => {
      const r = await evm.runCall({
        to,
        data: hexToBytes(iface.encodeFunctionData(fn, args) as `0x${string}`),
        gasLimit: 1_000_000n,
      })
      expect(r.execResult.exceptionError).toBeUndefined()
      return iface.decodeFunctionResult(fn, bytesToHex(r.execResult.returnValue))[0]
    }

    expect(await write(5n, h(0xaa), '0x0000000000000000000000000000000000001234')).toBe(false)
    expect(await call('rootOf', [5n])).toBe(h(0))
    expect(await write(5n, h(0xaa))).toBe(true)
    expect(await write(2048n, h(0xbb))).toBe(true) // a checkpoint block
    expect(await call('rootOf', [5n])).toBe(h(0xaa))
    expect(await call('rootOf', [2048n])).toBe(h(0xbb))
    // the ring slot of block 5 is taken over 8191 blocks later; 2048's slot too, but its checkpoint stays
    expect(await write(5n + 8191n, h(0xcc))).toBe(true)
    expect(await write(2048n + 8191n, h(0xdd))).toBe(true)
    expect(await call('rootOf', [5n])).toBe(h(0))
    expect(await call('rootOf', [5n + 8191n])).toBe(h(0xcc))
    expect(await call('rootOf', [2048n])).toBe(h(0xbb))
    expect(await call('rootOf', [2048n + 8191n])).toBe(h(0xdd))

    // a real tree: the contract's fold agrees with merkle.ts (chain id of a bare EVM is 1)
    const records: ProofRecord[] = Array.from({ length: 5 }, (_, i) => ({
      chainId: 1n,
      blockNumber: 9000n,
      txHash: h(100 + i),
      index: i % 2,
      modelId: h(7),
      inputHash: h(200 + i),
      outputHash: h(300 + i),
      flops: BigInt(1000 * i),
    }))
    expect(await write(9000n, inferenceRoot(records))).toBe(true)
    const tuple = (r: ProofRecord) => [
      r.chainId,
      r.blockNumber,
      r.txHash,
      r.index,
      r.modelId,
      r.inputHash,
      r.outputHash,
      r.flops,
    ]
    for (let i = 0; i < records.length; i++) {
      expect(await call('verifyInference', [tuple(records[i]), inferenceProof(records, i)])).toBe(true)
      expect(await call('verifyInference', [tuple({ ...records[i], index: 9 }), inferenceProof(records, i)])).toBe(
        false,
      )
    }
    expect(await call('verifyInference', [tuple({ ...records[0], chainId: 2n }), inferenceProof(records, 0)])).toBe(
      false,
    )
  })
})
