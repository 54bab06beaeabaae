import { existsSync, readFileSync } from 'node:fs'
import type { CliCommand, CliIO } from '../command.ts'
import { printResult } from '../command.ts'

/** The bare hex for vm.ffi (which decodes 0x-hex stdout to bytes); `{ "output": hex }` with --json. */
function print(io: CliIO, hex: string): void {
  if (io.json) printResult(io, { output: hex }, hex)
  else io.stdout.write(hex)
}

/**
 * `lattice precompile-output`: the bytes the inference precompile returns for one `infer` calldata, computed on
 * the consensus runtime from a local model file, or asked of a node (eth_call). Foundry's EVM has no precompile
 * at 0x…0A11: contracts/LatticeTest.sol calls this through vm.ffi and installs the answer with vm.mockCall.
 */
export const precompileOutputCommand: CliCommand = {
  name: 'precompile-output',
  description:
    "Print (0x-hex) what the inference precompile returns for infer() calldata: from a local .onnx on the consensus runtime (--model) or from a node's eth_call (--rpc)",
  options: [
    { flags: '--calldata <hex>', description: 'ABI calldata of ILatticeInference.infer(bytes32, Tensor[])' },
    { flags: '--model <file>', description: 'the model file (.onnx) the model id stands for: run it locally' },
    { flags: '--rpc <url>', description: 'or ask this node (eth_call to the precompile at the latest block)' },
  ],
  async run(_args, opts, io) {
    const { CliFlagError } = await import('../errors.ts')
    const hex = String(opts.calldata ?? '')
    if (!/^0x([0-9a-fA-F]{2})+$/.test(hex)) {
      throw new CliFlagError(
        'Pass --calldata with the 0x-hex ABI calldata of infer(bytes32,(string,uint8,uint64[],bytes)[]).',
      )
    }
    if (Boolean(opts.model) === Boolean(opts.rpc)) {
      throw new CliFlagError('Pass either --model <file.onnx> (run locally) or --rpc <url> (ask a node), not both.')
    }
    if (opts.rpc) {
      const { rpcCall } = await import('../model-client.ts')
      const { INFERENCE_PRECOMPILE_ADDRESS } = await import('../../precompiles/addresses.ts')
      const out = await rpcCall<string>(String(opts.rpc), 'eth_call', [
        { to: INFERENCE_PRECOMPILE_ADDRESS, data: hex },
        'latest',
      ])
      print(io, out)
      return 0
    }
    const model = String(opts.model)
    if (!existsSync(model)) throw new CliFlagError(`No model at ${model}. Pass --model with a path to an .onnx file.`)
    const { hexToBytes, bytesToHex } = await import('@ethereumjs/util')
    const { decodeInfer, encodeTensors, methodOf } = await import('../../precompiles/abi.ts')
    const { fixedDecimals } = await import('../../inference/tensor.ts')
    const { createSession } = await import('../../inference/onnx.ts')
    const data = hexToBytes(hex as `0x${string}`)
    if (methodOf(data) !== 'infer') throw new CliFlagError('--calldata is not a call of infer(bytes32, Tensor[]).')
    const { inputs } = decodeInfer(data)
    // as the precompile: fixed-point inputs ask for fixed-point outputs with the largest of their decimals
    let decimals: number | undefined
    for (const t of inputs) {
      const d = fixedDecimals(t.dtype)
      if (d !== undefined) decimals = decimals === undefined ? d : Math.max(decimals, d)
    }
    const session = await createSession({ model: readFileSync(model) })
    try {
      const outputs = await session.run(inputs, { outputDecimals: decimals })
      print(io, bytesToHex(encodeTensors(outputs)))
    } finally {
      await session.dispose()
    }
    return 0
  },
}
