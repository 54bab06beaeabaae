// IPFSIncentives' rules at exact block heights: the compiled predeploys (ModelRegistry and IPFSIncentives, with
// the verifier slot that `contracts build` writes) in a bare @ethereumjs/evm, one call per chosen block.
import { randomBytes } from 'node:crypto'
import { createBlock } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createEVM, type EVM } from '@ethereumjs/evm'
import { Account, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import type { InterfaceAbi } from 'ethers'
import { Interface, Wallet } from 'ethers'
import { beforeAll, describe, expect, it } from 'vitest'
import { verifierStorage } from '../../src/chain/contracts.ts'
import { IPFS_INCENTIVES_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../../src/precompiles/addresses.ts'
import { CommitmentBuilder, commitmentProof, LEAF_SIZE } from '../../src/storage/commitment.ts'
import { compileContractsCached } from '../helpers/compile-cache.ts'

const ETHER = 10n ** 18n
const MIB = 1 << 20
const addr = (i: number) => new Wallet(bytesToHex(new Uint8Array(32).fill(i + 1))).address
const VERIFIER = addr(0)
const OWNER = addr(1)
const P1 = addr(2)
const P2 = addr(3)

interface Pkg {
  bytes: Uint8Array
  root: string
  leafHashes: Uint8Array[]
}

async function pkg(size: number): Promise<Pkg> {
  const bytes = randomBytes(size)
  const b = await CommitmentBuilder.create({ keepLeaves: true })
  b.update(bytes)
  return { bytes, root: b.digest().root, leafHashes: b.leafHashes! }
}

describe('IPFSIncentives rounds, budget and verification (bare EVM)', () => {
  let evm: EVM
  let common: Common
  let reg: Interface
  let inc: Interface
  let number = 0n

  /** Call `fn` on `to` from `from` in block `number`; returns the decoded result or the decoded revert. */
  async function call(
    iface: Interface,
    to: string,
    from: string,
    fn: string,
    args: unknown[] = [],
    value = 0n,
  ): Promise<{ ok: boolean; result?: any; error?: { name: string; args: unknown[] } }> {
    const block = createBlock({ header: { number, timestamp: 1_700_000_000n + number } }, { common })
    const r = await evm.runCall({
      block,
      caller: createAddressFromString(from),
      origin: createAddressFromString(from),
      to: createAddressFromString(to),
      data: hexToBytes(iface.encodeFunctionData(fn, args) as `0x${string}`),
      value,
      gasLimit: 10_000_000n,
    })
    const ret = bytesToHex(r.execResult.returnValue)
    if (r.execResult.exceptionError) {
      const e = iface.parseError(ret)
      return { ok: false, error: e ? { name: e.name, args: [...e.args] } : { name: 'unknown', args: [] } }
    }
    const out = iface.decodeFunctionResult(fn, ret)
    return { ok: true, result: out.length === 1 ? out[0] : out }
  }
  const I = (from: string, fn: string, args: unknown[] = [], value = 0n) =>
    call(inc, IPFS_INCENTIVES_ADDRESS, from, fn, args, value)
  const ok = async (p: ReturnType<typeof I>) => {
    const r = await p
    expect(r.error).toBeUndefined()
    return r.result
  }

  async function registerModel(name: string, p: Pkg): Promise<string> {
    const spec = {
      name,
      version: '1',
      cid: `bafy-${name}`,
      digest: bytesToHex(randomBytes(32)),
      commitment: p.root,
      format: 'onnx',
      io: '',
      policy: 0,
      price: 0n,
    }
    const r = await call(reg, MODEL_REGISTRY_ADDRESS, OWNER, 'register', [spec])
    expect(r.error).toBeUndefined()
    return r.result
  }

  async function answer(from: string, epoch: bigint, id: string, p: Pkg) {
    const [open, index] = await ok(I(from, 'challengeAt', [from, id, epoch]))
    expect(open).toBe(true)
    const i = Number(index)
    const proof = await commitmentProof(p.leafHashes, i)
    return I(from, 'answer', [epoch, id, p.bytes.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE), proof.siblings])
  }

  let a: Pkg
  let b: Pkg
  let idA: string
  let idB: string

  beforeAll(async () => {
    const artifacts = compileContractsCached()
    reg = new Interface(artifacts.ModelRegistry.abi as InterfaceAbi)
    inc = new Interface(artifacts.IPFSIncentives.abi as InterfaceAbi)
    common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
    evm = await createEVM({ common })
    const sm = evm.stateManager
    for (const [address, artifact, balance] of [
      [MODEL_REGISTRY_ADDRESS, artifacts.ModelRegistry, 0n],
      [IPFS_INCENTIVES_ADDRESS, artifacts.IPFSIncentives, 1000n * ETHER],
    ] as const) {
      const at = createAddressFromString(address)
      await sm.putAccount(at, new Account(1n, balance))
      await sm.putCode(at, hexToBytes(artifact.deployedBytecode))
    }
    const storage = verifierStorage({ config: { lattice: { validators: [VERIFIER] } } }, artifacts.IPFSIncentives)
    for (const [k, v] of Object.entries(storage)) {
      await sm.putStorage(
        createAddressFromString(IPFS_INCENTIVES_ADDRESS),
        hexToBytes(k as `0x${string}`),
        hexToBytes(v as `0x${string}`),
      )
    }
    for (const who of [VERIFIER, OWNER, P1, P2])
      await sm.putAccount(createAddressFromString(who), new Account(0n, 100n * ETHER))
    a = await pkg(3 * MIB - 100) // weight ceil(3 MiB) x 100
    b = await pkg(MIB) // weight 1 x 100
    idA = await registerModel('a', a)
    idB = await registerModel('b', b)
  })

  it('verification gates claims; only a verifier attests; a verdict is final', async () => {
    number = 5n
    const idC = await registerModel('c', await pkg(5000))
    // a zero size has no leaf to challenge: refused with the size error, nothing recorded
    expect((await I(OWNER, 'setModelInfo', [idA, 0, 'classifier'])).error).toEqual({
      name: 'SizeOutOfRange',
      args: [0n, 2n ** 40n],
    })
    expect((await ok(I(OWNER, 'models', [idA]))).state).toBe(0n)
    for (const [id, size] of [
      [idA, a.bytes.length],
      [idB, b.bytes.length],
      [idC, 5000],
    ] as const) {
      await ok(I(OWNER, 'setModelInfo', [id, size, 'classifier']))
    }
    expect(await ok(I(OWNER, 'pendingModels'))).toEqual([idA, idB, idC])
    expect((await I(OWNER, 'setModelInfo', [idA, 1, 'raw'])).error?.name).toBe('InfoAlreadySet')
    expect((await I(P1, 'register', [], ETHER)).ok).toBe(true)
    expect((await I(P2, 'register', [], ETHER)).ok).toBe(true)
    expect((await I(P1, 'claim', [idA])).error).toEqual({ name: 'ModelNotVerified', args: [idA, 1n] })
    expect((await I(OWNER, 'attest', [idA, a.bytes.length, a.root])).error).toEqual({
      name: 'NotVerifier',
      args: [OWNER],
    })
    await ok(I(VERIFIER, 'attest', [idA, a.bytes.length, a.root]))
    await ok(I(VERIFIER, 'attest', [idB, b.bytes.length, b.root]))
    await ok(I(VERIFIER, 'attest', [idC, 5000, a.root])) // not C's commitment: rejected
    expect((await I(VERIFIER, 'attest', [idC, 5000, a.root])).error?.name).toBe('NotPending')
    expect(await ok(I(OWNER, 'pendingModels'))).toEqual([])
    expect((await ok(I(OWNER, 'models', [idC]))).state).toBe(3n)
    expect((await I(P1, 'claim', [idC])).error).toEqual({ name: 'ModelNotVerified', args: [idC, 3n] })
  })

  it('answers are taken in the round and the epoch after; a round pays its budget split by size and pinners', async () => {
    number = 20n // epoch 1: claims challenged from round 2
    await ok(I(P1, 'claim', [idA]))
    await ok(I(P1, 'claim', [idB]))
    await ok(I(P2, 'claim', [idA]))
    expect(await ok(I(P1, 'claimedFrom', [P1, idA]))).toBe(2n)
    // round 2 is not open in epoch 1
    expect((await I(P1, 'challengeAt', [P1, idA, 2n])).result[0]).toBe(false)

    number = 47n // the last block of round 2
    expect(await ok(I(P1, 'answer', [2n, idA, a.bytes.subarray(0, 7), []]))).toBe(false) // wrong: recorded
    const again = await I(P1, 'answer', [2n, idA, a.bytes.subarray(0, LEAF_SIZE), []])
    expect(again.error).toEqual({ name: 'AlreadyAnswered', args: [idA, 2n] })
    number = 48n // epoch 3: round 2 still takes answers
    expect((await answer(P1, 2n, idB, b)).result).toBe(true)
    expect((await answer(P2, 2n, idA, a)).result).toBe(true)
    number = 64n // epoch 4: round 2 has closed
    expect((await I(P1, 'challengeAt', [P1, idA, 3n])).result[0]).toBe(true)
    const late = await I(P1, 'answer', [2n, idB, b.bytes.subarray(0, LEAF_SIZE), []])
    expect(late.error).toEqual({ name: 'NoChallenge', args: [idB, 2n] })
    expect((await answer(P1, 3n, idA, a)).result).toBe(true) // round 3 in its second epoch

    // round 3 settles only once epoch 5 begins
    expect((await I(P2, 'settle', [P1, 4n])).error).toEqual({ name: 'EpochNotOver', args: [4n] })
    await ok(I(P2, 'settle', [P1, 3n]))
    await ok(I(P1, 'settle', [P2, 3n]))
    const round = await ok(I(P1, 'rounds', [2n]))
    expect(round.weight).toBe(300n + 100n) // A (3 MiB) and B (1 MiB) passed; P1's failed A answer adds nothing
    // 0.1 % of the pool when first paid from: 1000 ether plus P1's stake slashed just before (A comes first)
    expect(round.budget).toBe(((1000n * ETHER + ETHER / 10n) * 10n) / 10_000n)
    const p1 = await ok(I(P1, 'pinners', [P1]))
    const p2 = await ok(I(P1, 'pinners', [P2]))
    // B's share (100/400) to P1 alone; A's share (300/400) to P2, the one pinner that passed on A;
    // P1's wrong answer on A slashed 10 %
    expect(p1.earned).toBe((round.budget * 100n) / 400n)
    expect(p2.earned).toBe((round.budget * 300n) / 400n)
    expect(p1.earned + p2.earned).toBeLessThanOrEqual(round.budget)
    expect([p1.passed, p1.failed, p1.stake]).toEqual([1n, 1n, (ETHER * 9n) / 10n])
    expect([p2.passed, p2.failed, p2.stake]).toEqual([1n, 0n, ETHER])

    // round 3: P1 passed A alone, missed B; P2 missed A
    number = 80n
    await ok(I(P2, 'settle', [P1, 4n]))
    await ok(I(P1, 'settle', [P2, 4n]))
    const r3 = await ok(I(P1, 'rounds', [3n]))
    expect(r3.weight).toBe(300n)
    const q1 = await ok(I(P1, 'pinners', [P1]))
    const q2 = await ok(I(P1, 'pinners', [P2]))
    expect(q1.earned - p1.earned).toBe(r3.budget) // the whole round: the only model and pinner that passed
    expect(q1.stake).toBe((((ETHER * 9n) / 10n) * 9n) / 10n)
    expect(q2.stake).toBe((ETHER * 9n) / 10n)
    // budgets follow the pool (rewards owed are no longer in it, slashed stake is)
    expect(r3.budget).toBeLessThan(round.budget)
  })
})
