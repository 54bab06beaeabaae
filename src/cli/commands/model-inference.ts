import type { CliCommand } from '../command.ts'
import type { NodeConnection } from '../model-client.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model inference`: run a registered model through the chain (eth_call by default, --tx to send). */
export const modelInferenceCommand: CliCommand = {
  name: 'model inference',
  description: 'Run a registered model on JSON input tensors: a free eth_call, or a transaction with --tx',
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' },
    {
      flags: '--input <file>',
      description: 'JSON file: {"inputs": {"x": {"dtype", "shape", "data"}}} or bare nested arrays',
    },
    { flags: '--output <file>', description: 'write {"outputs": ...} here' },
    {
      flags: '--tx',
      description:
        'send a transaction and print its receipt (costs gas, and the price if any); simulated first: a run that would revert is not sent',
    },
    { flags: '--force', description: 'with --tx: send even when the simulation reverts (spends the gas)' },
    {
      flags: '--async',
      description:
        'request it through the InferenceMarket (an accelerated executor answers) and wait until the claim is final; needs a key',
    },
    { flags: '--max-fee <wei>', description: 'with --async: the fee offered to executors (default 0)' },
    { flags: '--key <hex>', description: 'sign with this private key (same as --private-key)' },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const { readFile, writeFile } = await import('node:fs/promises')
    const client = await import('../model-client.ts')
    const { CliFlagError } = await import('../errors.ts')
    const { formatTensorJson, parseTensorJson } = await import('../../inference/json.ts')
    const { Interface } = await import('ethers')
    const modelId = client.modelIdFlag(opts.modelId)
    if (!opts.input)
      throw new CliFlagError('No input given. Pass --input with a JSON file like {"inputs": {"x": [[0.1, 0.2]]}}.')
    let doc: unknown
    try {
      doc = JSON.parse(await readFile(String(opts.input), 'utf8'))
    } catch (err) {
      throw new CliFlagError(
        `Cannot read ${opts.input} as JSON (${(err as Error).message}). Pass --input with a tensor JSON file.`,
      )
    }
    if (opts.key !== undefined) opts.privateKey ??= opts.key
    const conn = await client.connect(opts, io, Boolean(opts.tx || opts.async))
    try {
      const model = await conn.call<Record<string, any> | null>('lattice_getModel', [modelId])
      if (!model)
        throw new CliFlagError(
          `No model ${modelId} in the registry at ${conn.url}. List models with \`lattice model list\`.`,
        )
      if (model.status !== 'active')
        throw new CliFlagError(
          `Model ${modelId} is ${model.status}; run its newer version${model.next ? ` ${model.next}` : ''}.`,
        )
      const inputs = parseTensorJson(doc, { model: inputsOf(model.io) })
      const { abiTensors } = await import('../../precompiles/abi.ts')
      const abiInputs = abiTensors(inputs)
      if (opts.async) {
        const { requestAndWait } = await import('../market/async-inference.ts')
        const r = await requestAndWait(conn, modelId, inputs, { maxFee: opts.maxFee })
        const text = formatTensorJson(r.outputs)
        if (opts.output) await writeFile(String(opts.output), text)
        const { outputs: _, ...facts } = r
        const json = { modelId, ...facts, outputs: (JSON.parse(text) as { outputs: unknown }).outputs }
        const head = `Request:   ${r.requestId} (${r.status}, executor ${r.executor})\nTx:        ${r.requestTx}`
        client.output(io, opts, json, `${head}\n${opts.output ? `Outputs written to ${opts.output}` : text.trimEnd()}`)
        return 0
      }
      const price = BigInt(model.price)
      const viaRegistry = price > 0n
      if (viaRegistry && !conn.signer)
        throw new CliFlagError(
          `Model ${modelId} costs ${price} wei per inference. Pass --private-key or --keystore to pay through ModelRegistry.infer.`,
        )
      const iface = new Interface(viaRegistry ? client.REGISTRY_ABI : client.INFERENCE_ABI)
      const to = viaRegistry ? client.REGISTRY_ADDRESS : client.INFERENCE_ADDRESS
      const data = iface.encodeFunctionData('infer', [modelId, abiInputs])
      const from = conn.signer ? await conn.signer.getAddress() : undefined
      const decode = (ret: string) =>
        (iface.decodeFunctionResult('infer', ret)[0] as any[]).map((t) => ({
          name: t[0] as string,
          dtype: Number(t[1]),
          shape: (t[2] as bigint[]).map(Number),
          data: new Uint8Array(Buffer.from((t[3] as string).slice(2), 'hex')),
        }))
      let outputs: ReturnType<typeof decode>
      let receiptInfo: { txHash: string; blockNumber: number; gasUsed: string; status: number } | undefined
      if (opts.tx) {
        // a reverting inference still spends its gas: simulate it from the sender first and refuse with the reason
        if (!opts.force) await simulate(conn, { to, data, from: from!, value: viaRegistry ? price : 0n }, modelId)
        const receipt = await client.sendAndWait(
          conn,
          { to, data, value: viaRegistry ? price : 0n, gasLimit: 16_000_000n },
          `Inference on ${modelId}`,
        )
        const trace = await conn.call<{ output?: string; error?: string }>('debug_traceTransaction', [
          receipt.hash,
          { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
        ])
        try {
          outputs = decode(trace.output ?? '0x')
        } catch {
          // the trace could not give the return data: re-run the call on the state the transaction started from
          const call: Record<string, string> = { to, data, from: from! }
          if (viaRegistry) call.value = `0x${price.toString(16)}`
          const ret = await conn.call<string>('eth_call', [call, `0x${(receipt.blockNumber - 1).toString(16)}`])
          outputs = decode(ret)
        }
        receiptInfo = {
          txHash: receipt.hash,
          blockNumber: receipt.blockNumber,
          gasUsed: receipt.gasUsed.toString(),
          status: receipt.status ?? 0,
        }
      } else {
        const call: Record<string, string> = { to, data }
        if (from) call.from = from
        if (viaRegistry) call.value = `0x${price.toString(16)}`
        outputs = decode(await conn.call<string>('eth_call', [call, 'latest']))
      }
      const text = formatTensorJson(outputs)
      if (opts.output) await writeFile(String(opts.output), text)
      const json = { modelId, ...receiptInfo, outputs: (JSON.parse(text) as { outputs: unknown }).outputs }
      const human = [
        ...(receiptInfo
          ? [
              `Tx:        ${receiptInfo.txHash}`,
              `Block:     ${receiptInfo.blockNumber}`,
              `Gas used:  ${receiptInfo.gasUsed}`,
              `Status:    ${receiptInfo.status === 1 ? 'success' : 'reverted'}`,
            ]
          : []),
        opts.output ? `Outputs written to ${opts.output}` : text.trimEnd(),
      ].join('\n')
      client.output(io, opts, json, human)
      return 0
    } finally {
      conn.close()
    }
  },
}

/**
 * eth_call the inference transaction on the latest state from its sender; a revert becomes TransactionFailedError
 * with the node's reason, before anything is signed or sent.
 */
async function simulate(
  conn: NodeConnection,
  tx: { to: string; data: string; from: string; value: bigint },
  modelId: string,
): Promise<void> {
  const { NodeRequestError, TransactionFailedError } = await import('../errors.ts')
  const call = { to: tx.to, data: tx.data, from: tx.from, value: `0x${tx.value.toString(16)}` }
  try {
    await conn.call<string>('eth_call', [call, 'latest'])
  } catch (err) {
    if (!(err instanceof NodeRequestError) || !/^eth_call: /.test(err.shortMessage)) throw err
    throw new TransactionFailedError(
      `Inference on ${modelId} would revert (simulated with eth_call from ${tx.from}): ${err.shortMessage.slice('eth_call: '.length)}. Nothing was sent. Fix the input, or pass --force to send it anyway (the gas is spent).`,
      { cause: err },
    )
  }
}

/** The model inputs from the registry's `io` summary (`x:float32[N,4],... -> ...`), for bare-array input files. */
function inputsOf(io: string): { name: string; dtype: string; shape: (number | string)[] }[] {
  const left = io.split(' -> ')[0] ?? ''
  const out: { name: string; dtype: string; shape: (number | string)[] }[] = []
  for (const m of left.matchAll(/([^:,\s]+):([a-z0-9]+)\[([^\]]*)\]/g)) {
    const shape = m[3] === '' ? [] : m[3].split(',').map((d) => (/^\d+$/.test(d) ? Number(d) : d))
    out.push({ name: m[1], dtype: m[2], shape })
  }
  return out
}
