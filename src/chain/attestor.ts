// Validator attestations of inference roots: the node signs each block's root (EIP-712, docs/proofs.md) with
// its validator key and keeps every signature it has with the block, under meta key 'a' + block hash.
import type { Block } from '@ethereumjs/block'
import type { RootSignature, StoredAttestation } from '../proofs/attestation.ts'
import {
  attestationKey,
  decodeAttestation,
  encodeAttestation,
  keyAddress,
  parseKey,
  signInferenceRoot,
} from '../proofs/attestation.ts'
import { EMPTY_INFERENCE_ROOT } from '../proofs/merkle.ts'
import type { Chain, ChainListener } from './chain.ts'

/** The stored attestation of a block, if any. */
export async function readAttestation(chain: Chain, blockHash: Uint8Array): Promise<StoredAttestation | undefined> {
  const raw = await chain.dbs.meta.get(attestationKey(blockHash))
  return raw ? decodeAttestation(raw as Uint8Array) : undefined
}

/**
 * Add signatures to a block's attestation (one per signer, kept in increasing signer order). `prev` is the
 * stored attestation when the caller has just read it (saves a second read, a miss for a new block).
 */
export async function storeSignatures(
  chain: Chain,
  blockHash: Uint8Array,
  inferenceRoot: string,
  sigs: RootSignature[],
  prev?: StoredAttestation | null,
): Promise<StoredAttestation> {
  if (prev === undefined) prev = (await readAttestation(chain, blockHash)) ?? null
  const bySigner = new Map<string, RootSignature>()
  if (prev && prev.inferenceRoot === inferenceRoot) for (const s of prev.signatures) bySigner.set(s.signer, s)
  for (const s of sigs) bySigner.set(s.signer.toLowerCase(), { ...s, signer: s.signer.toLowerCase() })
  const next = { inferenceRoot, signatures: [...bySigner.values()].sort((a, b) => (a.signer < b.signer ? -1 : 1)) }
  await chain.dbs.meta.put(attestationKey(blockHash), encodeAttestation(next))
  return next
}

/** Called when signing a committed block's root failed (the node logs it; the chain goes on). */
export type AttestationFailureHandler = (err: unknown, block: Block) => void

/** Signs inference roots with one validator key; as a chain listener, every block as it is committed. */
export class Attestor implements ChainListener {
  readonly address: string
  private readonly key: Uint8Array
  /** Blocks whose root could not be signed as they were committed. */
  failures = 0

  constructor(
    private readonly chain: Chain,
    key: string,
    private readonly onFailure?: AttestationFailureHandler,
  ) {
    this.key = parseKey(key)
    this.address = keyAddress(this.key)
  }

  async onBlockCommitted(block: Block): Promise<void> {
    try {
      await this.attest(block)
    } catch (err) {
      // a failed signature must not stop the chain; the RPC signs the block again on demand
      this.failures++
      this.onFailure?.(err, block)
    }
  }

  async onReset(): Promise<void> {}

  /** Sign `block`'s inference root and store the signature; nothing for a block without inferences. */
  async attest(block: Block): Promise<StoredAttestation | undefined> {
    const root = await this.chain.inferenceRootOf(block)
    if (root === EMPTY_INFERENCE_ROOT) return undefined
    const prev = await readAttestation(this.chain, block.hash())
    if (prev?.inferenceRoot === root && prev.signatures.some((s) => s.signer === this.address)) return prev
    return storeSignatures(this.chain, block.hash(), root, [this.sign(block, root)], prev ?? null)
  }

  /** This node's signature of a block's inference root (the address computed once, at construction). */
  sign(block: Block, inferenceRoot: string): RootSignature {
    return signInferenceRoot(
      {
        chainId: this.chain.chainId,
        blockNumber: block.header.number,
        blockHash: bytesHex(block.hash()),
        inferenceRoot,
      },
      this.key,
      this.address,
    )
  }
}

const bytesHex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

const attestors = new WeakMap<Chain, Attestor>()

/** Make `attestor` the signer of `chain`'s roots (the RPC signs blocks it has not signed yet on demand). */
export function registerAttestor(chain: Chain, attestor: Attestor): void {
  attestors.set(chain, attestor)
  chain.listeners.push(attestor)
}

/** Attach an attestor when one of `keys` belongs to the chain's validator set (`config.lattice.validators`). */
export function attachValidatorAttestor(
  chain: Chain,
  keys: string[],
  onFailure?: AttestationFailureHandler,
): Attestor | undefined {
  const validators = new Set((chain.spec.lattice.validators ?? []).map((v) => v.toLowerCase()))
  for (const key of keys) {
    const attestor = new Attestor(chain, key, onFailure)
    if (validators.has(attestor.address)) {
      registerAttestor(chain, attestor)
      return attestor
    }
  }
  return undefined
}

/** The attestor registered for `chain`, if the node runs with a validator key. */
export function attestorFor(chain: Chain): Attestor | undefined {
  return attestors.get(chain)
}
