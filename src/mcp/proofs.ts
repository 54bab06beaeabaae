// Inference proofs through the node: fetch one (lattice_getInferenceProof) and verify it three ways — the
// Merkle path locally, the validators' signatures of the root, and InferenceVerifier on the chain itself.
import { Interface, type InterfaceAbi } from 'ethers'
import { contractAbi } from '../chain/abi.ts'
import type { LatticeError } from '../errors.ts'
import { INFERENCE_VERIFIER_ADDRESS } from '../precompiles/addresses.ts'
import { recoverSigner } from '../proofs/attestation.ts'
import { type InferenceProofJson, parseInferenceProof, proofRecordOf, recordTuple } from '../proofs/json.ts'
import { verifyInferenceProof } from '../proofs/merkle.ts'
import type { McpContext } from './context.ts'
import { McpInputError } from './errors.ts'

/** The proof of inference `index` (default: the first) of transaction `txHash`. */
export async function getProof(ctx: McpContext, txHash: string, index?: number): Promise<InferenceProofJson> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(txHash))
    throw new McpInputError(`"${txHash}" is not a transaction hash. Pass 0x followed by 64 hex digits.`)
  const params: unknown[] = [txHash]
  if (index !== undefined) params.push(`0x${index.toString(16)}`)
  return ctx.call<InferenceProofJson>('lattice_getInferenceProof', params)
}

/** The verdict of {@link verifyProof}: valid only when every check that could run passed. */
export interface ProofVerdict {
  valid: boolean
  merkle: { valid: boolean }
  signatures: { valid: boolean; signers: string[]; validators: string[]; threshold: number }
  onChain: { valid: boolean; verifier: string; checkedAt: string }
  record: InferenceProofJson['record']
  blockNumber: string
  root: string
}

/** Check a proof: Merkle path, validator signatures (threshold of lattice_getValidators) and InferenceVerifier. */
export async function verifyProof(ctx: McpContext, proofArg: unknown): Promise<ProofVerdict> {
  let proof: InferenceProofJson
  try {
    proof = parseInferenceProof(proofArg)
  } catch (err) {
    throw new McpInputError(`Not an inference proof: ${(err as LatticeError).shortMessage ?? String(err)}`)
  }
  const merkle = verifyInferenceProof(proofRecordOf(proof), proof.proof, proof.root)
  const vs = await ctx.call<{ validators: string[]; threshold: string }>('lattice_getValidators')
  const validators = vs.validators.map((v) => v.toLowerCase())
  const message = {
    chainId: BigInt(proof.record.chainId),
    blockNumber: BigInt(proof.blockNumber),
    blockHash: proof.blockHash,
    inferenceRoot: proof.root,
  }
  const signers = [
    ...new Set(
      proof.signatures
        .map((s) => recoverSigner(message, s.signature)?.toLowerCase())
        .filter((a): a is string => a !== undefined && validators.includes(a)),
    ),
  ]
  const threshold = Number(BigInt(vs.threshold))
  const onChain = await verifyOnChain(ctx, proof)
  const sigOk = signers.length >= threshold && threshold > 0
  return {
    valid: merkle && sigOk && onChain.valid,
    merkle: { valid: merkle },
    signatures: { valid: sigOk, signers, validators, threshold },
    onChain,
    record: proof.record,
    blockNumber: proof.blockNumber,
    root: proof.root,
  }
}

/**
 * InferenceVerifier.verifyInference as the chain answers it. The root of block N enters state at the start
 * of block N+1 (docs/proofs.md), so while N is the head the call is simulated in the next block.
 */
async function verifyOnChain(ctx: McpContext, proof: InferenceProofJson): Promise<ProofVerdict['onChain']> {
  const iface = new Interface(contractAbi('InferenceVerifier') as InterfaceAbi)
  const data = iface.encodeFunctionData('verifyInference', [recordTuple(proof), proof.proof])
  const call = { to: INFERENCE_VERIFIER_ADDRESS, data }
  const head = BigInt(await ctx.call<string>('eth_blockNumber'))
  let ret: string
  let checkedAt: string
  if (head > BigInt(proof.blockNumber)) {
    ret = await ctx.call<string>('eth_call', [call, `0x${head.toString(16)}`])
    checkedAt = `block ${head}`
  } else {
    const sim = await ctx.call<{ calls: { returnData: string; status: string; error?: { message?: string } }[] }[]>(
      'eth_simulateV1',
      [{ blockStateCalls: [{ calls: [call] }] }, 'latest'],
    )
    const c = sim[0]?.calls[0]
    if (!c || BigInt(c.status) !== 1n)
      return { valid: false, verifier: INFERENCE_VERIFIER_ADDRESS, checkedAt: 'next block (simulated)' }
    ret = c.returnData
    checkedAt = `block ${head + 1n} (simulated: the root enters state at the start of the next block)`
  }
  const [ok] = iface.decodeFunctionResult('verifyInference', ret) as unknown as [boolean]
  return { valid: ok, verifier: INFERENCE_VERIFIER_ADDRESS, checkedAt }
}
