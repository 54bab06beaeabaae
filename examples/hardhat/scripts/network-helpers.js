// Hardhat's network helpers against a Lattice devnet: each helper the devnet must support, checked through the
// node's own answers. `hardhat run scripts/network-helpers.js --network lattice`; prints one "ok <helper>" per
// check and exits non-zero at the first that fails.
import assert from 'node:assert/strict'
import { network } from 'hardhat'

const { networkHelpers: h, provider } = await network.getOrCreate()
const rpc = (method, params = []) => provider.request({ method, params })
const blockNumber = async () => Number(await rpc('eth_blockNumber'))
const balance = async (a) => BigInt(await rpc('eth_getBalance', [a, 'latest']))
const ok = (name) => console.log(`ok ${name}`)

// the helpers accept the devnet only by its web3_clientVersion (docs/hardhat.md)
console.log(`web3_clientVersion ${await rpc('web3_clientVersion')}`)

const n0 = await blockNumber()
await h.mine(3)
assert.equal(await blockNumber(), n0 + 3)
ok('mine')

const head = await rpc('eth_getBlockByNumber', ['latest', false])
const t0 = await h.time.latest()
assert.equal(t0, Number(head.timestamp))
ok('time.latest')

const t1 = await h.time.increase(3600)
assert.ok(t1 >= t0 + 3600, `time.increase: ${t1} < ${t0} + 3600`)
assert.equal(await h.time.latest(), t1)
ok('time.increase')

const someone = '0x000000000000000000000000000000000000bEEF'
await h.setBalance(someone, 10n ** 18n)
assert.equal(await balance(someone), 10n ** 18n)
ok('setBalance')

const snapshot = await h.takeSnapshot()
const atSnapshot = await blockNumber()
await h.setBalance(someone, 7n)
await h.mine(2)
assert.equal(await balance(someone), 7n)
await snapshot.restore()
assert.equal(await balance(someone), 10n ** 18n)
assert.equal(await blockNumber(), atSnapshot)
ok('takeSnapshot + restore')

// a sender with no key anywhere: the node sends as it
await h.impersonateAccount(someone)
const to = '0x000000000000000000000000000000000000cafe'
const before = await balance(to)
const hash = await rpc('eth_sendTransaction', [{ from: someone, to, value: '0x2a' }])
let receipt = await rpc('eth_getTransactionReceipt', [hash])
for (let i = 0; !receipt && i < 100; i++) {
  await new Promise((r) => setTimeout(r, 100))
  receipt = await rpc('eth_getTransactionReceipt', [hash])
}
assert.equal(receipt.status, '0x1')
assert.equal(receipt.from.toLowerCase(), someone.toLowerCase())
assert.equal(await balance(to), before + 42n)
await h.stopImpersonatingAccount(someone)
ok('impersonateAccount')

// runtime code that returns 42: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
const code = '0x602a60005260206000f3'
const answers = '0x000000000000000000000000000000000000d00d'
await h.setCode(answers, code)
assert.equal(await rpc('eth_getCode', [answers, 'latest']), code)
assert.equal(BigInt(await rpc('eth_call', [{ to: answers }, 'latest'])), 42n)
ok('setCode')

const fee = 7_000_000_000n
await h.setNextBlockBaseFeePerGas(fee)
await h.mine()
const mined = await rpc('eth_getBlockByNumber', ['latest', false])
assert.equal(BigInt(mined.baseFeePerGas), fee)
ok('setNextBlockBaseFeePerGas')
