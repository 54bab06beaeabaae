// The EVM side of gas calibration: a devnet with bench/fixtures/GasRef.sol deployed, timing plain EVM loops and
// whole inference calls through the node's own EVM (bench/gas.ts, bench/gas-vectors.ts).
import '../src/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { Interface, JsonRpcProvider, keccak256, SigningKey, toUtf8Bytes, Wallet } from 'ethers'
import { startDevnet } from '../src/cli/devnet.ts'
import type { Tensor } from '../src/inference/tensor.ts'
import { KEY0 } from '../test/helpers/devnet.ts'
import { abiTensor, deployModel, INFERENCE, inferenceAbi } from '../test/helpers/models.ts'
import { compileContract, REPO_ROOT } from '../test/helpers/solc.ts'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export type EvmLoop = 'keccak' | 'sstore' | 'ecrecover'

/** Wall and CPU time of the same runs, ns. */
export interface Times {
  wall: number
  /** This process's CPU time (every thread: the consensus session's worker included) over the same interval. */
  cpu: number
}

/** Start a wall and a CPU clock; the returned function reads both, in ns, since the start. */
export function stopwatch(): () => Times {
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  return () => {
    const wall = Number(process.hrtime.bigint() - t0)
    const c = process.cpuUsage(c0)
    return { wall, cpu: (c.user + c.system) * 1000 }
  }
}

/** The node's EVM with the reference contract deployed; `nsPerGas` times one loop (median of runs). */
export interface EvmRef {
  nsPerGas(loop: EvmLoop, runs?: number): Promise<number>
  /** Wall and CPU ns per gas of one loop, each the median of its runs. */
  perGas(loop: EvmLoop, runs?: number): Promise<Times>
  /** Register a model and time a whole `infer` call through the node's EVM: ns and gas (median of runs). */
  inferCall(
    name: string,
    model: Uint8Array,
    inputs: Tensor[],
    opts?: { runs?: number; allowFailure?: boolean },
  ): Promise<InferCall>
  close(): Promise<void>
}

/** One timed `infer` call: wall time, gas, and the revert reason or halt when it failed. */
export interface InferCall {
  ns: number
  /** CPU ns of the same call (this process, every thread). */
  cpuNs: number
  gas: bigint
  error?: string
}

/** Start a devnet with the reference contract. */
export async function startEvmRef(): Promise<EvmRef> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-gasbench-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const { abi, bytecode } = compileContract(`${REPO_ROOT}bench/fixtures/GasRef.sol`, 'GasRef')
  const from = devnet.accounts[0].address
  const hash = await devnet.node.sendTransaction({ from, data: hexToBytes(bytecode), gas: 3_000_000n })
  const loc = await devnet.node.chain.getTransaction(hash)
  const [receipt] = await devnet.node.chain.getReceipts(loc!.block.hash())
  const to = createAddressFromString(`0x${Buffer.from(receipt.contractAddress!).toString('hex')}`)
  const iface = new Interface(abi)
  const provider = new JsonRpcProvider(devnet.server.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  const digest = keccak256(toUtf8Bytes('lattice gas bench'))
  const sig = new SigningKey(keccak256(toUtf8Bytes('key'))).sign(digest)
  // about 1M gas each: short enough to repeat next to every inference case
  const calls: Record<EvmLoop, Uint8Array> = {
    keccak: hexToBytes(iface.encodeFunctionData('keccakLoop', [8_000]) as `0x${string}`),
    sstore: hexToBytes(iface.encodeFunctionData('sstoreLoop', [45]) as `0x${string}`),
    ecrecover: hexToBytes(
      iface.encodeFunctionData('ecrecoverLoop', [300, digest, sig.v, sig.r, sig.s]) as `0x${string}`,
    ),
  }
  const ref: EvmRef = {
    async nsPerGas(loop, runs = 5) {
      return (await ref.perGas(loop, runs)).wall
    },
    async perGas(loop, runs = 5) {
      const wall: number[] = []
      const cpu: number[] = []
      for (let i = 0; i < runs + 1; i++) {
        const read = stopwatch()
        const r = await devnet.node.execute({ from, to, data: calls[loop], gas: 16_000_000n }, devnet.node.chain.head)
        const t = read()
        wall.push(t.wall / Number(r.totalGasSpent))
        cpu.push(t.cpu / Number(r.totalGasSpent))
      }
      return { wall: median(wall.slice(1)), cpu: median(cpu.slice(1)) }
    },
    async inferCall(name, model, inputs, opts = {}) {
      const wallet = new Wallet(KEY0, provider)
      const { modelId } = await deployModel(devnet.store, wallet, model, { name: `bench-${name}` })
      const data = hexToBytes(
        inferenceAbi.encodeFunctionData('infer', [modelId, inputs.map(abiTensor)]) as `0x${string}`,
      )
      const precompile = createAddressFromString(INFERENCE)
      const samples: InferCall[] = []
      for (let i = 0; i < (opts.runs ?? 5) + 1; i++) {
        const read = stopwatch()
        const r = await devnet.node.execute({ from, to: precompile, data, gas: 16_000_000n }, devnet.node.chain.head)
        const { wall: ns, cpu: cpuNs } = read()
        const ex = r.execResult.exceptionError
        let error: string | undefined
        if (ex) {
          const ret = r.execResult.returnValue
          error =
            ex.error === 'revert' && ret.length > 4
              ? (inferenceAbi.getAbiCoder().decode(['string'], ret.subarray(4))[0] as string)
              : ex.error
          if (!opts.allowFailure) throw new TypeError(`${name}: the call failed (${error})`)
        }
        samples.push({ ns, cpuNs, gas: r.totalGasSpent, error })
      }
      // the first run loads the session; report the median of the warm ones
      const warm = samples.length > 1 ? samples.slice(1) : samples
      const mid = warm.toSorted((a, b) => a.ns - b.ns)[Math.floor(warm.length / 2)]
      return { ...mid, cpuNs: median(warm.map((w) => w.cpuNs)) }
    },
    async close() {
      provider.destroy()
      await devnet.close()
      rmSync(datadir, { recursive: true, force: true })
    },
  }
  return ref
}
