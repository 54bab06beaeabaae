// Chain-facing glue of the pinner (src/storage/pinner.ts): IPFSIncentives and ModelRegistry over JSON-RPC
// with the pinner's key, and a tick on every block of the local node.
import { bytesToHex } from '@ethereumjs/util'
import type { InterfaceAbi } from 'ethers'
import { Contract, computeAddress, JsonRpcProvider, Wallet } from 'ethers'
import { contractAbi } from '../chain/abi.ts'
import type { DevAccount } from '../chain/accounts.ts'
import type { LatticeNode } from '../chain/node.ts'
import { IPFS_INCENTIVES_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import type { IncentivesPort, ModelState, Pinner, PinnerCandidate, PinnerEvent } from '../storage/pinner.ts'
import { createPinner } from '../storage/pinner.ts'
import type { PinningManager } from '../storage/pinning.ts'
import type { ModelStore } from '../storage/types.ts'

/** IPFSIncentives' ABI, from the solc build. */
export const INCENTIVES_ABI = contractAbi('IPFSIncentives') as InterfaceAbi

/** IPFSIncentives' model states (ModelInfo.state) as the pinner names them. */
const MODEL_STATES: Record<number, ModelState> = { 1: 'pending', 2: 'verified', 3: 'rejected' }

const REGISTRY_ABI = contractAbi('ModelRegistry') as InterfaceAbi

/** IncentivesPort over JSON-RPC, signing with `wallet`. */
export function rpcIncentivesPort(wallet: Wallet): IncentivesPort {
  const c = new Contract(IPFS_INCENTIVES_ADDRESS, INCENTIVES_ABI, wallet) as any
  const me = wallet.address
  const send = async (p: Promise<any>) => {
    const tx = await p
    const r = await tx.wait()
    return r
  }
  return {
    address: me,
    currentEpoch: async () => BigInt(await c.currentEpoch()),
    modelInfo: async (id) => {
      const m = await c.models(id)
      const state = MODEL_STATES[Number(m.state)]
      return state ? { commitment: m.commitment, size: BigInt(m.size), state } : undefined
    },
    isVerifier: async () => Boolean(await c.isVerifier(me)),
    pendingModels: async () => [...(await c.pendingModels())],
    attest: async (id, size, commitment) => {
      await send(c.attest(id, size, commitment))
    },
    ensureRegistered: async (stake) => {
      if (!(await c.isPinner(me))) await send(c.register({ value: stake }))
    },
    claims: async () => {
      const ids: string[] = await c.claims(me)
      return Promise.all(ids.map(async (id) => ({ modelId: id, from: BigInt(await c.claimedFrom(me, id)) })))
    },
    claim: async (id) => {
      await send(c.claim(id))
    },
    answerStatus: async (epoch, id) => Number(await c.answers(epoch, me, id)),
    challengeAt: async (id, epoch) => {
      const [open, index] = await c.challengeAt(me, id, epoch)
      return { open, index: Number(index) }
    },
    answer: async (epoch, id, leaf, siblings) => {
      const r = await send(c.answer(epoch, id, leaf, siblings))
      const ev = r.logs.map((l: any) => c.interface.parseLog(l)).find((l: any) => l?.name === 'Answered')
      return Boolean(ev?.args.ok)
    },
    pinners: async () => {
      const n = Number(await c.pinnerCount())
      const out: { address: string; settledThrough: bigint }[] = []
      for (let i = 0; i < n; i++) {
        const a: string = await c.pinnerAt(i)
        out.push({ address: a, settledThrough: BigInt((await c.pinners(a)).settledThrough) })
      }
      return out
    },
    settle: async (pinner, through) => {
      await send(c.settle(pinner, through))
    },
    account: async () => {
      const p = await c.pinners(me)
      return { stake: p.stake, owed: p.owed, earned: p.earned, passed: BigInt(p.passed), failed: BigInt(p.failed) }
    },
    withdraw: async () => {
      const r = await send(c.withdraw())
      const ev = r.logs.map((l: any) => c.interface.parseLog(l)).find((l: any) => l?.name === 'Withdrawal')
      return BigInt(ev?.args.amount ?? 0n)
    },
  }
}

/** Every registry model, as pinner candidates (a pinner claims those whose owner set incentive info). */
export function registryCandidates(provider: JsonRpcProvider): () => Promise<PinnerCandidate[]> {
  const reg = new Contract(MODEL_REGISTRY_ADDRESS, REGISTRY_ABI, provider) as any
  return async () => {
    const n = Number(await reg.modelCount())
    const ids: string[] = n === 0 ? [] : await reg.modelIds(0, n)
    return Promise.all(
      ids.map(async (id) => {
        const m = await reg.getModel(id)
        return { modelId: id, cid: m.cid, digest: m.digest }
      }),
    )
  }
}

/** Options of {@link startPinner}. */
export interface StartPinnerOpts {
  /** The local node: the pinner ticks on each of its blocks. */
  node: LatticeNode
  /** Its JSON-RPC URL (the pinner signs and sends like any client). */
  rpcUrl: string
  /** The pinner account's private key. */
  key: string
  store: ModelStore
  pins: PinningManager
  onEvent?: (e: PinnerEvent) => void
  /** Claim and answer challenges (default true); false with a verifier's key runs a verifier only. */
  claim?: boolean
  /** Told about a tick that failed (default: ignored; the next block retries). */
  onError?: (err: unknown) => void
}

/** A running pinner: `stop()` detaches it from the node. */
export interface RunningPinner {
  pinner: Pinner
  address: string
  /** Resolves when the tick in progress (if any) is done. */
  idle(): Promise<void>
  stop(): Promise<void>
}

/** Options of {@link startDevnetVerifier}. */
export interface StartDevnetVerifierOpts extends Omit<StartPinnerOpts, 'key' | 'claim'> {
  /** The devnet's dev accounts: the one that is a genesis validator verifies. */
  accounts: DevAccount[]
  /** `config.lattice.validators` of the genesis. */
  validators: string[]
  /** The pinner's key, if the devnet runs one: a validator pinner verifies by itself. */
  pinnerKey?: string
}

/**
 * A verify-only runner with the devnet's validator key, so that models its pinner may claim get verified
 * (docs/storage.md, "Threat model"). Undefined when no dev account is a validator, or the pinner is one.
 */
export function startDevnetVerifier(opts: StartDevnetVerifierOpts): RunningPinner | undefined {
  const validators = new Set(opts.validators.map((v) => v.toLowerCase()))
  const account = opts.accounts.find((a) => validators.has(a.address.toString().toLowerCase()))
  if (!account) return undefined
  const key = bytesToHex(account.privateKey)
  if (opts.pinnerKey && new Wallet(opts.pinnerKey).address.toLowerCase() === computeAddress(key).toLowerCase()) {
    return undefined
  }
  return startPinner({ ...opts, key, claim: false })
}

/** Run a pinner with `key` against the local node until stopped. */
export function startPinner(opts: StartPinnerOpts): RunningPinner {
  const provider = new JsonRpcProvider(opts.rpcUrl, undefined, {
    staticNetwork: true,
    pollingInterval: 50,
    cacheTimeout: -1,
  })
  const wallet = new Wallet(opts.key, provider)
  const pinner = createPinner({
    store: opts.store,
    pins: opts.pins,
    incentives: rpcIncentivesPort(wallet),
    candidates: registryCandidates(provider),
    onEvent: opts.onEvent,
    claim: opts.claim,
  })
  let stopped = false
  let last: Promise<void> = Promise.resolve()
  const onBlock = () => {
    if (stopped) return
    last = pinner.tick().catch((err) => opts.onError?.(err))
  }
  opts.node.on('block', onBlock)
  onBlock()
  return {
    pinner,
    address: wallet.address,
    idle: () => last,
    stop: async () => {
      stopped = true
      opts.node.off('block', onBlock)
      await last
      provider.destroy()
    },
  }
}
