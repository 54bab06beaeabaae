import { errorMessage } from '../../errors.ts'
import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError, NodeRequestError } from '../errors.ts'

/** `lattice proof get`: the Merkle proof and validator signatures of one inference, as JSON. */
export const proofGetCommand: CliCommand = {
  name: 'proof get',
  description: 'Print the proof of an inference (record, Merkle path, root, block, validator signatures) as JSON',
  options: [
    { flags: '--tx <hash>', description: 'hash of the transaction that ran the inference' },
    { flags: '--index <i>', description: 'which inference of that transaction (default: its first)' },
    { flags: '--rpc-url <url>', description: 'Lattice node JSON-RPC URL', default: 'http://127.0.0.1:8545' },
  ],
  async run(_args, opts, io) {
    const tx = opts.tx as string | undefined
    if (!tx || !/^0x[0-9a-fA-F]{64}$/.test(tx)) {
      throw new CliFlagError(
        `${tx ? `"${tx}" is not a transaction hash` : 'No transaction given'}. Pass --tx 0x<64 hex digits>.`,
      )
    }
    const params: unknown[] = [tx]
    if (opts.index !== undefined) {
      const i = Number(opts.index)
      if (!Number.isInteger(i) || i < 0) {
        throw new CliFlagError(`--index "${opts.index}" is not a non-negative integer.`)
      }
      params.push(`0x${i.toString(16)}`)
    }
    const { JsonRpcProvider } = await import('ethers')
    const provider = new JsonRpcProvider(opts.rpcUrl as string, undefined, { staticNetwork: true })
    try {
      const proof = await provider.send('lattice_getInferenceProof', params)
      // the proof is JSON with or without --json
      printResult(io, proof, JSON.stringify(proof, null, 2))
      return 0
    } catch (err) {
      throw new NodeRequestError(
        `${rpcMessage(err)} (node ${opts.rpcUrl}; start one with \`lattice devnet\` or pass --rpc-url)`,
        { cause: err },
      )
    } finally {
      provider.destroy()
    }
  },
}

/** The node's own message out of an ethers error. */
export function rpcMessage(err: unknown): string {
  const e = err as { error?: { message?: string }; shortMessage?: string }
  return e?.error?.message ?? e?.shortMessage ?? errorMessage(err)
}
