// The commitment's proofs verify in Solidity: the verifier from docs/storage.md compiled with solc-js and
// run in @ethereumjs/evm against proofs from src/storage/commitment.ts.
import { randomBytes } from 'node:crypto'
import { createEVM } from '@ethereumjs/evm'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { CommitmentBuilder, commitmentProof, LEAF_SIZE } from '../../src/storage/commitment.ts'
import { compileContract } from '../helpers/solc.ts'

describe('storage commitment proofs verify on the EVM', () => {
  it('accepts every leaf of a padded tree, refuses tampered leaves, siblings and indexes', async () => {
    const { abi, bytecode } = compileContract(
      new URL('./fixtures/CommitmentVerifier.sol', import.meta.url).pathname,
      'CommitmentVerifier',
    )
    const evm = await createEVM()
    const deployed = await evm.runCall({ data: hexToBytes(bytecode), gasLimit: 5_000_000n })
    const to = deployed.createdAddress!
    const iface = new Interface(abi)
    const call = async (root: string, index: number, chunk: Uint8Array, siblings: string[]) => {
      const data = iface.encodeFunctionData('verify', [root, index, chunk, siblings])
      const r = await evm.runCall({ to, data: hexToBytes(data as `0x${string}`), gasLimit: 5_000_000n })
      expect(r.execResult.exceptionError).toBeUndefined()
      return iface.decodeFunctionResult('verify', bytesToHex(r.execResult.returnValue))[0] as boolean
    }

    const data = randomBytes(11 * LEAF_SIZE + 321) // 12 leaves (last one short), padded to 16
    const b = await CommitmentBuilder.create({ keepLeaves: true })
    b.update(data)
    const { root } = b.digest()
    for (const i of [0, 1, 5, 10, 11]) {
      const chunk = data.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE)
      const proof = await commitmentProof(b.leafHashes!, i)
      expect(await call(root, i, chunk, proof.siblings)).toBe(true)
      const bad = Buffer.from(chunk)
      bad[bad.length - 1] ^= 1
      expect(await call(root, i, bad, proof.siblings)).toBe(false)
      expect(await call(root, i ^ 1, chunk, proof.siblings)).toBe(false)
      const sib = [...proof.siblings]
      sib[sib.length - 1] = `0x${'00'.repeat(32)}`
      expect(await call(root, i, chunk, sib)).toBe(false)
    }
  })
})
