// The inference calls of a transaction: every call to the precompile in its call tree (debug_traceTransaction with
// the callTracer), decoded with ILatticeInference's ABI (served from contracts/abi, the build's output), next to
// the transaction's inference records (lattice_getInferenceProof by index).
import { batch, call } from './rpc.js'

export const PRECOMPILE = '0x0000000000000000000000000000000000000a11'
export const VERIFIER = '0xa110000000000000000000000000000000000002'
export const INCENTIVES = '0xa110000000000000000000000000000000000003'

const DTYPES = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' }

/** A dtype code as text (codes 128.. are fixed-point int256 with code-128 decimals). */
export const dtypeName = (c) => DTYPES[c] ?? (c >= 128 ? `fixed${c - 128}` : `dtype ${c}`)

let ethersModule
/** ethers' browser build, loaded on first use (only pages that decode ABI data need it). */
export async function ethers() {
  ethersModule ??= import('./vendor/ethers.js')
  return ethersModule
}

const abis = new Map()
/** An ethers Interface over a contract's ABI from contracts/abi. */
export async function contract(name) {
  if (!abis.has(name)) {
    abis.set(
      name,
      (async () => {
        const [{ Interface }, abi] = await Promise.all([ethers(), fetch(`./abi/${name}.json`).then((r) => r.json())])
        return new Interface(abi)
      })(),
    )
  }
  return abis.get(name)
}

const shapeOf = (t) => ({ name: t.name, dtype: dtypeName(Number(t.dtype)), shape: t.shape.map((d) => Number(d)) })

/** The precompile calls in a call tree, in execution order. */
function precompileFrames(frame, out = []) {
  if (frame.to?.toLowerCase() === PRECOMPILE && frame.type !== 'DELEGATECALL') out.push(frame)
  for (const c of frame.calls ?? []) precompileFrames(c, out)
  return out
}

/** A transaction's inference records (index 0, 1, ... until the node has no more). */
export async function inferenceRecords(txHash, max = 16) {
  const out = []
  for (let start = 0; start < max; start += 4) {
    const got = await batch(
      [0, 1, 2, 3].map((i) => ['lattice_getInferenceProof', [txHash, `0x${(start + i).toString(16)}`]]),
    )
    for (const r of got) {
      if (r instanceof Error) return out
      out.push(r)
    }
  }
  return out
}

/**
 * Decoded inference calls of a transaction: model, input and output tensor shapes, gas, and (by position) the
 * record's FLOPs and output hash.
 */
export async function inferenceCalls(txHash) {
  const [trace, records, iface] = await Promise.all([
    call('debug_traceTransaction', [txHash, { tracer: 'callTracer' }]),
    inferenceRecords(txHash),
    contract('ILatticeInference'),
  ])
  const frames = precompileFrames(trace)
  let next = 0
  const calls = frames.map((f) => {
    const c = {
      gasUsed: BigInt(f.gasUsed),
      error: f.error,
      modelId: null,
      method: '?',
      batch: 0,
      inputs: [],
      outputs: [],
      records: [],
    }
    try {
      const tx = iface.parseTransaction({ data: f.input })
      c.method = tx.name
      c.modelId = tx.args[0]
      c.batch = tx.name === 'inferBatch' ? tx.args[1].length : 1
      const ins = tx.name === 'inferBatch' ? tx.args[1].flat() : tx.args[1]
      c.inputs = ins.map(shapeOf)
      if (!f.error && f.output && f.output !== '0x') {
        const res = iface.decodeFunctionResult(tx.name, f.output)[0]
        c.outputs = (tx.name === 'inferBatch' ? res.flat() : res).map(shapeOf)
      }
    } catch {
      // not an ABI call the precompile accepts: shown undecoded
    }
    // a successful call leaves one record per input set (inferBatch: one per batch entry)
    const n = c.error || c.method === 'estimate' ? 0 : c.batch
    c.records = records.slice(next, next + n)
    next += n
    return c
  })
  return { calls, records, trace }
}

/** Verify a proof with InferenceVerifier on this chain (an eth_call): true, false, or an Error. */
export async function verifyOnChain(p) {
  const iface = await contract('InferenceVerifier')
  const r = p.record
  const tuple = [r.chainId, r.blockNumber, r.txHash, r.index, r.modelId, r.inputHash, r.outputHash, r.flops].map((v) =>
    typeof v === 'string' && v.length < 66 ? BigInt(v) : v,
  )
  const data = iface.encodeFunctionData('verifyInference', [tuple, p.proof])
  const out = await call('eth_call', [{ to: VERIFIER, data }, 'latest'])
  return iface.decodeFunctionResult('verifyInference', out)[0]
}

/**
 * Read-only calls to one contract in one JSON-RPC batch: `calls` are [function, args]; each result is the decoded
 * return values, or an Error.
 */
export async function readContract(name, to, calls) {
  const iface = await contract(name)
  const out = await batch(
    calls.map(([fn, args]) => ['eth_call', [{ to, data: iface.encodeFunctionData(fn, args) }, 'latest']]),
  )
  return out.map((r, i) => {
    if (r instanceof Error) return r
    try {
      return iface.decodeFunctionResult(calls[i][0], r)
    } catch (err) {
      return err
    }
  })
}
