import { readFileSync } from 'node:fs'
import type { InterfaceAbi } from 'ethers'
import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError, NodeRequestError } from '../errors.ts'
import { rpcMessage } from './proof-get.ts'

/** `lattice proof verify`: exit code 0 only for a valid inference proof. */
export const proofVerifyCommand: CliCommand = {
  name: 'proof verify',
  description:
    'Check an inference proof: on Lattice (InferenceVerifier) by default, or against a light verifier on another chain',
  options: [
    { flags: '--proof <file>', description: 'proof JSON from `lattice proof get` (- for stdin)' },
    {
      flags: '--rpc-url <url>',
      description: 'JSON-RPC URL of the chain to check on',
      default: 'http://127.0.0.1:8545',
    },
    {
      flags: '--verifier <address>',
      description: 'a LatticeInferenceLightVerifier at --rpc-url (default: the InferenceVerifier predeploy of Lattice)',
    },
  ],
  async run(_args, opts, io) {
    const file = opts.proof as string | undefined
    if (!file) {
      throw new CliFlagError('No proof given. Pass --proof with a file written by `lattice proof get`.')
    }
    let text: string
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8')
    } catch {
      throw new CliFlagError(`Cannot read ${file}. Pass --proof with a file written by \`lattice proof get\`.`)
    }
    const { parseInferenceProof, proofRecordOf, recordTuple } = await import('../../proofs/json.ts')
    const { contractAbi } = await import('../../chain/abi.ts')
    const { verifyInferenceProof } = await import('../../proofs/merkle.ts')
    const { errorMessage } = await import('../../errors.ts')
    let proof: ReturnType<typeof parseInferenceProof>
    try {
      proof = parseInferenceProof(JSON.parse(text))
    } catch (err) {
      throw new CliFlagError(`${file}: ${errorMessage(err)}`)
    }
    // the path must reach the root before any chain is asked
    if (!verifyInferenceProof(proofRecordOf(proof), proof.proof, proof.root)) {
      const reason = 'the Merkle path does not lead from the record to the root'
      printResult(io, { valid: false, reason }, `invalid: ${reason}`)
      return 1
    }
    const { Contract, JsonRpcProvider, isAddress } = await import('ethers')
    const verifier = opts.verifier as string | undefined
    if (verifier !== undefined && !isAddress(verifier)) {
      throw new CliFlagError(`--verifier "${verifier}" is not an address.`)
    }
    const { INFERENCE_VERIFIER_ADDRESS } = await import('../../precompiles/addresses.ts')
    const provider = new JsonRpcProvider(opts.rpcUrl as string, undefined, { staticNetwork: true })
    try {
      let ok: boolean
      if (verifier) {
        const light = new Contract(verifier, contractAbi('LatticeInferenceLightVerifier') as InterfaceAbi, provider)
        ok = await light.verifyInference(
          recordTuple(proof),
          proof.proof,
          proof.blockHash,
          proof.root,
          proof.signatures.map((s) => s.signature),
        )
      } else {
        const onChain = new Contract(
          INFERENCE_VERIFIER_ADDRESS,
          contractAbi('InferenceVerifier') as InterfaceAbi,
          provider,
        )
        ok = await onChain.verifyInference(recordTuple(proof), proof.proof)
      }
      const where = verifier ? `light verifier ${verifier}` : 'Lattice InferenceVerifier'
      const reason = ok ? undefined : `the ${where} at ${opts.rpcUrl} refused the proof`
      const result = {
        valid: ok,
        ...(reason ? { reason } : {}),
        txHash: proof.record.txHash,
        index: proof.record.index,
        blockNumber: BigInt(proof.blockNumber).toString(),
        verifier: verifier ?? INFERENCE_VERIFIER_ADDRESS,
        rpcUrl: opts.rpcUrl,
      }
      printResult(
        io,
        result,
        ok
          ? `valid: inference ${result.index} of ${result.txHash} in block ${result.blockNumber} (${where})`
          : `invalid: ${reason}`,
      )
      return ok ? 0 : 1
    } catch (err) {
      throw new NodeRequestError(`${rpcMessage(err)} (checking at ${opts.rpcUrl}; pass --rpc-url and --verifier)`, {
        cause: err,
      })
    } finally {
      provider.destroy()
    }
  },
}
