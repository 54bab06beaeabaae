// eth_call at past blocks answers from that block's state while new blocks are being mined (stateAt's copies
// share the state database and its read cache with the chain that keeps writing).
import { Interface } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADDR0, rpc, startTestDevnet, type TestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

let devnet: TestDevnet
const counter = compileContract(COUNTER_SOL, 'Counter')
const abi = new Interface(counter.abi)

async function send(data: string, to?: string): Promise<any> {
  const { result: hash, error } = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to, data }])
  if (error) throw new Error(error.message)
  for (;;) {
    const { result } = await rpc(devnet.url, 'eth_getTransactionReceipt', [hash])
    if (result) return result
    await new Promise((r) => setTimeout(r, 10))
  }
}

beforeAll(async () => {
  devnet = await startTestDevnet()
}, 180_000)
afterAll(async () => {
  await devnet?.stop()
}, 180_000)

describe('eth_call at past blocks', () => {
  it('returns each block’s own value while later blocks are mined', async () => {
    const target = (await send(counter.bytecode)).contractAddress as string
    const increment = abi.encodeFunctionData('increment')
    const get = abi.encodeFunctionData('get')
    // count after block n, for the blocks mined below
    const expected = new Map<string, bigint>()
    for (let i = 1; i <= 8; i++) expected.set((await send(increment, target)).blockNumber, BigInt(i))
    const call = async (block: string) => {
      const { result, error } = await rpc(devnet.url, 'eth_call', [{ to: target, data: get }, block])
      if (error) throw new Error(error.message)
      return BigInt(result)
    }
    let mining = true
    const miner = (async () => {
      for (let i = 0; i < 20 && mining; i++) await send(increment, target)
    })()
    const seen: [string, bigint][] = []
    const blocks = [...expected.keys()]
    for (let round = 0; round < 6; round++) {
      const answers = await Promise.all(blocks.map(async (b) => [b, await call(b)] as [string, bigint]))
      seen.push(...answers)
    }
    mining = false
    await miner
    for (const [b, v] of seen) expect(v, `block ${BigInt(b)}`).toBe(expected.get(b))
    // and the head moved on meanwhile
    expect(await call('latest')).toBeGreaterThan(8n)
  }, 180_000)
})
