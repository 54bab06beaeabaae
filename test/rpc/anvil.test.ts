// anvil_* / hardhat_* methods against an in-process devnet: state edits seen by every reader and carried into the
// next block, impersonation, mining, snapshots, reset, dump/load, and the registry/precompile refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../../src/precompiles/addresses.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'

const STRANGER = '0x1234567890123456789012345678901234567890'
const OTHER = '0x00000000000000000000000000000000000000bb'
/** Runtime code returning storage slot 0: PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN. */
const RETURN_SLOT0 = '0x60005460005260206000f3'

async function ok(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await rpc(url, method, params)
  if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`)
  return r.result
}

describe('anvil_* and hardhat_* on a devnet', () => {
  let devnet: TestDevnet
  let url: string

  beforeAll(async () => {
    devnet = await startTestDevnet()
    url = devnet.url
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('setBalance/setNonce/setCode/setStorageAt are seen by reads, calls and the next block', async () => {
    await ok(url, 'anvil_setBalance', [STRANGER, '0xde0b6b3a7640000'])
    await ok(url, 'hardhat_setNonce', [STRANGER, '0x7'])
    await ok(url, 'anvil_setCode', [OTHER, RETURN_SLOT0])
    expect(await ok(url, 'hardhat_setStorageAt', [OTHER, '0x0', `0x${'00'.repeat(31)}2a`])).toBe(true)
    expect(await ok(url, 'eth_getBalance', [STRANGER, 'latest'])).toBe('0xde0b6b3a7640000')
    expect(await ok(url, 'eth_getTransactionCount', [STRANGER, 'latest'])).toBe('0x7')
    expect(await ok(url, 'eth_getCode', [OTHER, 'latest'])).toBe(RETURN_SLOT0)
    expect(BigInt(await ok(url, 'eth_getStorageAt', [OTHER, '0x0', 'latest']))).toBe(42n)
    // eth_call runs on pooled VMs keyed by state: it must see the edit
    expect(BigInt(await ok(url, 'eth_call', [{ to: OTHER }, 'latest']))).toBe(42n)
    const proof = await ok(url, 'eth_getProof', [STRANGER, [], 'latest'])
    expect(proof.balance).toBe('0xde0b6b3a7640000')

    const before = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    await ok(url, 'anvil_mine', [])
    const after = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(after.number)).toBe(BigInt(before.number) + 1n)
    expect(after.stateRoot).not.toBe(before.stateRoot)
    // the mined block carries the edits: reading at its number (not the head's live state) sees them
    expect(await ok(url, 'eth_getBalance', [STRANGER, after.number])).toBe('0xde0b6b3a7640000')
    expect(BigInt(await ok(url, 'eth_call', [{ to: OTHER }, after.number]))).toBe(42n)
    // and the block before does not
    expect(await ok(url, 'eth_getBalance', [STRANGER, before.number])).toBe('0x0')
  })

  it('refuses code and storage edits of the registry and the precompile, as eth_call overrides do', async () => {
    for (const addr of [MODEL_REGISTRY_ADDRESS, INFERENCE_PRECOMPILE_ADDRESS]) {
      const code = await rpc(url, 'anvil_setCode', [addr, '0x00'])
      expect(code.error?.message).toMatch(/is not allowed/)
      const slot = await rpc(url, 'hardhat_setStorageAt', [addr, '0x0', `0x${'11'.repeat(32)}`])
      expect(slot.error?.message).toMatch(/is not allowed/)
    }
    expect(await ok(url, 'eth_getCode', [INFERENCE_PRECOMPILE_ADDRESS, 'latest'])).toBe('0x')
  })

  it('impersonation lets eth_sendTransaction send from an address without a key, until stopped', async () => {
    await ok(url, 'anvil_setBalance', [STRANGER, '0x56bc75e2d63100000'])
    const refused = await rpc(url, 'eth_sendTransaction', [{ from: STRANGER, to: ADDR1, value: '0x1' }])
    expect(refused.error?.message).toMatch(/unknown account/)
    await ok(url, 'anvil_impersonateAccount', [STRANGER])
    const nonce = BigInt(await ok(url, 'eth_getTransactionCount', [STRANGER, 'latest']))
    const hash = await ok(url, 'eth_sendTransaction', [{ from: STRANGER, to: ADDR1, value: '0x3e8' }])
    const receipt = await ok(url, 'eth_getTransactionReceipt', [hash])
    expect(receipt.status).toBe('0x1')
    expect(receipt.from).toBe(STRANGER)
    const tx = await ok(url, 'eth_getTransactionByHash', [hash])
    expect(tx.from).toBe(STRANGER)
    expect(BigInt(tx.nonce)).toBe(nonce)
    expect(BigInt(await ok(url, 'eth_getTransactionCount', [STRANGER, 'latest']))).toBe(nonce + 1n)
    // re-executed for a trace, it runs as its sender again (not as what the placeholder signature recovers to)
    const trace = await ok(url, 'debug_traceTransaction', [hash, { tracer: 'callTracer' }])
    expect(trace.from).toBe(STRANGER)
    expect(trace.value).toBe('0x3e8')
    expect(await ok(url, 'ots_getTransactionBySenderAndNonce', [STRANGER, `0x${nonce.toString(16)}`])).toBe(hash)
    expect(await ok(url, 'hardhat_stopImpersonatingAccount', [STRANGER])).toBe(true)
    const again = await rpc(url, 'eth_sendTransaction', [{ from: STRANGER, to: ADDR1, value: '0x1' }])
    expect(again.error?.message).toMatch(/unknown account/)
    await ok(url, 'anvil_autoImpersonateAccount', [true])
    await ok(url, 'eth_sendTransaction', [{ from: STRANGER, to: ADDR1, value: '0x1' }])
    await ok(url, 'anvil_autoImpersonateAccount', [false])
  })

  it('mines counts with intervals, and reports automine', async () => {
    const start = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    await ok(url, 'hardhat_mine', ['0x3', '0x64'])
    const end = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(end.number) - BigInt(start.number)).toBe(3n)
    const second = await ok(url, 'eth_getBlockByNumber', [`0x${(BigInt(start.number) + 2n).toString(16)}`, false])
    expect(BigInt(end.timestamp) - BigInt(second.timestamp)).toBe(100n)
    expect(await ok(url, 'hardhat_getAutomine')).toBe(true)
    expect(await ok(url, 'anvil_getAutomine')).toBe(true)
    const big = await rpc(url, 'anvil_mine', ['0x100000'])
    expect(big.error?.code).toBe(-32602)
  })

  it('spaces blocks by the timestamp interval until it is removed', async () => {
    await ok(url, 'anvil_setBlockTimestampInterval', [1000])
    await ok(url, 'evm_mine')
    const a = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    await ok(url, 'evm_mine')
    const b = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(b.timestamp) - BigInt(a.timestamp)).toBe(1000n)
    expect(await ok(url, 'anvil_removeBlockTimestampInterval')).toBe(true)
    expect(await ok(url, 'anvil_removeBlockTimestampInterval')).toBe(false)
  })

  it('drops a pending transaction and sets the coinbase of later blocks', async () => {
    await ok(url, 'evm_setAutomine', [false])
    try {
      const hash = await ok(url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
      expect(await ok(url, 'anvil_dropTransaction', [hash])).toBe(hash)
      expect(await ok(url, 'anvil_dropTransaction', [hash])).toBe(null)
      expect(await ok(url, 'eth_getTransactionByHash', [hash])).toBe(null)
      await ok(url, 'anvil_setCoinbase', [OTHER])
      await ok(url, 'evm_mine')
      const block = await ok(url, 'eth_getBlockByNumber', ['latest', false])
      expect(block.miner).toBe(OTHER)
      expect(block.transactions).toEqual([])
    } finally {
      await ok(url, 'evm_setAutomine', [true])
    }
  })

  it('pins the next base fee for one block and the gas limit of later blocks', async () => {
    await ok(url, 'anvil_setNextBlockBaseFeePerGas', ['0x2540be400'])
    await ok(url, 'evm_mine')
    const pinned = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(pinned.baseFeePerGas)).toBe(10_000_000_000n)
    await ok(url, 'evm_mine')
    const next = await ok(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(next.baseFeePerGas)).toBeLessThan(10_000_000_000n)
    expect(await ok(url, 'hardhat_setNextBlockBaseFeePerGas', ['0x3b9aca00'])).toBe(true)
    // a transaction sent now is priced for the pinned fee and lands in the block that has it
    const hash = await ok(url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
    const receipt = await ok(url, 'eth_getTransactionReceipt', [hash])
    expect(BigInt(receipt.effectiveGasPrice)).toBeGreaterThanOrEqual(1_000_000_000n)
    const withTx = await ok(url, 'eth_getBlockByNumber', [receipt.blockNumber, false])
    expect(BigInt(withTx.baseFeePerGas)).toBe(1_000_000_000n)

    expect(await ok(url, 'evm_setBlockGasLimit', ['0x1c9c380'])).toBe(true)
    await ok(url, 'evm_mine')
    await ok(url, 'evm_mine')
    expect((await ok(url, 'eth_getBlockByNumber', ['latest', false])).gasLimit).toBe('0x1c9c380')
    expect((await rpc(url, 'evm_setBlockGasLimit', ['0x10'])).error?.code).toBe(-32602)
  })

  it('evm_revert undoes state edits made at the same height', async () => {
    const snap = await ok(url, 'evm_snapshot')
    const fresh = '0x00000000000000000000000000000000000000cc'
    await ok(url, 'anvil_setBalance', [fresh, '0x1234'])
    expect(await ok(url, 'eth_getBalance', [fresh, 'latest'])).toBe('0x1234')
    expect(await ok(url, 'evm_revert', [snap])).toBe(true)
    expect(await ok(url, 'eth_getBalance', [fresh, 'latest'])).toBe('0x0')
  })

  it('identifies itself to Hardhat and anvil tooling', async () => {
    const meta = await ok(url, 'hardhat_metadata')
    expect(meta.chainId).toBe(Number(await ok(url, 'eth_chainId')))
    expect(meta.latestBlockNumber).toBe(Number(await ok(url, 'eth_blockNumber')))
    expect(meta.instanceId).toMatch(/^0x[0-9a-f]{64}$/)
    const info = await ok(url, 'anvil_nodeInfo')
    expect(info.currentBlockNumber).toBe(meta.latestBlockNumber)
    expect(info.environment.chainId).toBe(meta.chainId)
  })

  it('dumps the state and loads it into a fresh devnet at the same state root', async () => {
    await ok(url, 'anvil_setStorageAt', [OTHER, '0x5', `0x${'00'.repeat(31)}07`])
    const dump = await ok(url, 'anvil_dumpState')
    expect(dump).toMatch(/^0x1f8b/)
    await ok(url, 'evm_mine')
    const root = (await ok(url, 'eth_getBlockByNumber', ['latest', false])).stateRoot
    const fresh = await startTestDevnet()
    try {
      expect(await ok(fresh.url, 'anvil_loadState', [dump])).toBe(true)
      expect(BigInt(await ok(fresh.url, 'eth_getStorageAt', [OTHER, '0x5', 'latest']))).toBe(7n)
      expect(await ok(fresh.url, 'eth_getCode', [OTHER, 'latest'])).toBe(RETURN_SLOT0)
      const again = await ok(fresh.url, 'anvil_dumpState')
      // the dump's header names the block it was taken at; the accounts must agree line for line
      const body = (hex: string) => Buffer.from(hex.slice(2), 'hex')
      const { gunzipSync } = await import('node:zlib')
      const lines = (hex: string) => gunzipSync(body(hex)).toString().split('\n')
      // same accounts line for line, and the same state root (the header line names the block too)
      expect(lines(again).slice(1)).toEqual(lines(dump).slice(1))
      expect(JSON.parse(lines(again)[0]).stateRoot).toBe(JSON.parse(lines(dump)[0]).stateRoot)
      expect(lines(dump).length).toBeGreaterThan(10)
      const bad = await rpc(fresh.url, 'anvil_loadState', ['0x1f8b0000'])
      expect(bad.error).toBeDefined()
      // the dump was taken before the last block; that block changed only the beacon-root/history contracts
      expect(root).not.toBe(JSON.parse(lines(dump)[0]).stateRoot)
    } finally {
      await fresh.stop()
    }
  })

  it('anvil_reset goes back to genesis', async () => {
    await ok(url, 'anvil_reset')
    expect(await ok(url, 'eth_blockNumber')).toBe('0x0')
    expect(await ok(url, 'eth_getBalance', [STRANGER, 'latest'])).toBe('0x0')
    expect(await ok(url, 'eth_getCode', [OTHER, 'latest'])).toBe('0x')
    const fork = await rpc(url, 'anvil_reset', [{ forking: { jsonRpcUrl: 'http://x' } }])
    expect(fork.error?.code).toBe(-32602)
  })
})
