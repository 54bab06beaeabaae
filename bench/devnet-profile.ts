/**
 * Where an automined transfer's time goes: an in-process devnet takes N pre-signed transfers over HTTP under
 * the V8 sampling profiler, and the profile is summarised by self time per package and per function.
 *
 *   node --import tsx bench/devnet-profile.ts [--transfers 300] [--top 25] [--out x.cpuprofile]
 */
import '../src/polyfills.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { startDevnet } from '../src/cli/devnet.ts'
import { type Profile, printProfile } from './cpu-profile.ts'
import { rpc } from './helpers.ts'

const { values } = parseArgs({
  options: {
    transfers: { type: 'string', default: '300' },
    top: { type: 'string', default: '25' },
    out: { type: 'string' },
  },
})
const N = Number(values.transfers)
const KEY = hexToBytes('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a')

async function main(): Promise<void> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-profile-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const url = devnet.server.url
  const chainId = BigInt(await rpc(url, 'eth_chainId', []))
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork: 'prague' })
  const raws = Array.from({ length: N + 20 }, (_, i) =>
    bytesToHex(
      createFeeMarket1559Tx(
        {
          nonce: BigInt(i),
          maxFeePerGas: 100n * 10n ** 9n,
          maxPriorityFeePerGas: 10n ** 9n,
          gasLimit: 21000n,
          to: createAddressFromString('0x70997970C51812dc3A010C7d01b50e0d17dc79C8'),
          value: 1n,
          chainId,
        },
        { common },
      )
        .sign(KEY)
        .serialize(),
    ),
  )
  const session = new Session()
  session.connect()
  try {
    // warm-up outside the profile
    for (const raw of raws.slice(0, 20)) await rpc(url, 'eth_sendRawTransaction', [raw])
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
    const t0 = performance.now()
    let last = ''
    for (const raw of raws.slice(20)) last = await rpc(url, 'eth_sendRawTransaction', [raw])
    while (!(await rpc(url, 'eth_getTransactionReceipt', [last]))) await new Promise((r) => setTimeout(r, 5))
    const wall = performance.now() - t0
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile }
    console.log(
      `node ${process.version}, ${new Date().toISOString()}: ${N} transfers, ${(wall / N).toFixed(2)} ms each`,
    )
    if (values.out) writeFileSync(values.out, JSON.stringify(profile))
    printProfile(profile, Number(values.top), N, 'transfer', 2)
  } finally {
    session.disconnect()
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

await main()
