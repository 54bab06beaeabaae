/**
 * Where an eth_call's CPU goes: an in-process devnet serves N sequential eth_calls of a Counter view over HTTP
 * (at `latest`, then at the deploy block) under the V8 sampling profiler; self time per package and function.
 *
 *   node --import tsx bench/call-profile.ts [--calls 500] [--top 30] [--at head|past] [--direct] [--interleave]
 *     [--out x.cpuprofile]
 *
 * --direct: node.execute under fresh call limits handed down as the eth_call handler does, in-process (no HTTP); --interleave: a block is mined before each
 * call, whose time alone is reported (the profile includes the mining).
 */
import '../src/polyfills.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { Interface } from 'ethers'
import { CallLimits, withPassedCallLimits } from '../src/chain/call-limits.ts'
import { throwOnFailure } from '../src/chain/calls.ts'
import { startDevnet } from '../src/cli/devnet.ts'
import { COUNTER_SOL, compileContract } from '../test/helpers/solc.ts'
import { type Profile, printProfile } from './cpu-profile.ts'
import { rpc } from './helpers.ts'

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '500' },
    top: { type: 'string', default: '30' },
    at: { type: 'string', default: 'head' },
    out: { type: 'string' },
    // node.call under the RPC call limits, in-process: the call path without HTTP and JSON-RPC
    direct: { type: 'boolean', default: false },
    // a block mined before each call (at head): the first call on every new head, as in a test suite
    interleave: { type: 'boolean', default: false },
  },
})
const N = Number(values.calls)
const DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

async function main(): Promise<void> {
  const counter = compileContract(COUNTER_SOL, 'Counter')
  const data = new Interface(counter.abi).encodeFunctionData('get')
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-call-profile-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const url = devnet.server.url
  const session = new Session()
  session.connect()
  try {
    const hash = await rpc(url, 'eth_sendTransaction', [{ from: DEPLOYER, data: counter.bytecode }])
    let rcpt: any = await rpc(url, 'eth_getTransactionReceipt', [hash])
    while (!rcpt) {
      await new Promise((r) => setTimeout(r, 5))
      rcpt = await rpc(url, 'eth_getTransactionReceipt', [hash])
    }
    // a few blocks on top, so the deploy block is a past block
    for (let i = 0; i < 5; i++) await rpc(url, 'evm_mine', [])
    const block = values.at === 'past' ? rcpt.blockNumber : 'latest'
    const call = { to: rcpt.contractAddress, data }
    const req = { to: createAddressFromString(rcpt.contractAddress), data: hexToBytes(data as `0x${string}`) }
    const at = await (values.at === 'past'
      ? devnet.node.chain.getBlockByNumber(BigInt(rcpt.blockNumber))
      : devnet.node.chain.head)
    if (!at) throw new Error('no block')
    // as the eth_call handler does: the limits handed down, no context (src/rpc/limits.ts PASSED_LIMITS)
    const one = values.direct
      ? () =>
          withPassedCallLimits(new CallLimits(), async (limits) =>
            throwOnFailure(
              await devnet.node.execute(req, values.interleave ? devnet.node.chain.head : at, undefined, { limits }),
            ),
          )
      : () => rpc(url, 'eth_call', [call, block])
    let callMs = 0
    const timed = async () => {
      if (values.interleave) await rpc(url, 'evm_mine', [])
      const t = performance.now()
      await one()
      callMs += performance.now() - t
    }
    for (let i = 0; i < 50; i++) await timed()
    callMs = 0
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    await session.post('Profiler.start')
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < N; i++) await timed()
    const wall = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile }
    console.log(
      `node ${process.version}, ${new Date().toISOString()}: ${N} eth_calls at ${values.at}${values.direct ? ' (direct)' : ''}, ` +
        `${(wall / N).toFixed(3)} ms wall, ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms process CPU each (client included)` +
        (values.interleave ? `; the call alone ${(callMs / N).toFixed(3)} ms wall` : ''),
    )
    if (values.out) writeFileSync(values.out, JSON.stringify(profile))
    printProfile(profile, Number(values.top), N, 'call', 3)
  } finally {
    session.disconnect()
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

await main()
