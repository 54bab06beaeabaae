// Node-side signing with the dev accounts: the same bytes as anvil for the same key and payload (anvil runs with
// the devnet's chain id so that signed transactions can agree too), and real clients that sign through the node.
import { JsonRpcProvider, verifyMessage, verifyTypedData } from 'ethers'
import { createWalletClient, defineChain, http } from 'viem'
import { describe, expect, it } from 'vitest'
import { devnetBesideAnvil } from '../helpers/anvil.ts'
import { ADDR0, ADDR1, CHAIN_ID, rpc } from '../helpers/devnet.ts'

const MAIL = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person[]' },
      { name: 'contents', type: 'string' },
      { name: 'tags', type: 'bytes32[]' },
    ],
  },
  primaryType: 'Mail',
  domain: {
    name: 'Ether Mail',
    version: '1',
    chainId: CHAIN_ID,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
  },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: [{ name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' }],
    contents: 'Hello, Bob!',
    tags: [`0x${'ab'.repeat(32)}`],
  },
}

const TXS = [
  {
    from: ADDR0,
    to: ADDR1,
    value: '0xde0b6b3a7640000',
    nonce: '0x5',
    gas: '0x5208',
    maxFeePerGas: '0x77359400',
    maxPriorityFeePerGas: '0x3b9aca00',
    chainId: `0x${CHAIN_ID.toString(16)}`,
    type: '0x2',
  },
  { from: ADDR0, to: ADDR1, value: '0x1', nonce: '0x0', gas: '0x7530', gasPrice: '0x3b9aca00', data: '0x1234' },
  {
    from: ADDR0,
    to: ADDR1,
    nonce: '0x2',
    gas: '0x7530',
    gasPrice: '0x3b9aca00',
    accessList: [{ address: ADDR1, storageKeys: [`0x${'00'.repeat(31)}01`] }],
    type: '0x1',
  },
]

async function ok(url: string, method: string, params: unknown[]): Promise<any> {
  const r = await rpc(url, method, params)
  if (r.error) throw new Error(`${method} on ${url}: ${JSON.stringify(r.error)}`)
  return r.result
}

describe('node-side signing, compared with anvil', () => {
  const both = devnetBesideAnvil(CHAIN_ID)

  it('eth_sign and personal_sign give anvil bytes', async () => {
    for (const msg of ['0x', '0xdeadbeef', `0x${Buffer.from('hello lattice').toString('hex')}`]) {
      const ours = await ok(both.devnet.url, 'eth_sign', [ADDR0, msg])
      expect(ours).toBe(await ok(both.anvil.url, 'eth_sign', [ADDR0, msg]))
      expect(await ok(both.devnet.url, 'personal_sign', [msg, ADDR0])).toBe(
        await ok(both.anvil.url, 'personal_sign', [msg, ADDR0]),
      )
      expect(verifyMessage(Buffer.from(msg.slice(2), 'hex'), ours)).toBe(ADDR0)
    }
  })

  it('eth_signTypedData_v4 gives anvil bytes, as an object and as a JSON string', async () => {
    const ours = await ok(both.devnet.url, 'eth_signTypedData_v4', [ADDR0, MAIL])
    expect(ours).toBe(await ok(both.anvil.url, 'eth_signTypedData_v4', [ADDR0, MAIL]))
    expect(await ok(both.devnet.url, 'eth_signTypedData_v4', [ADDR0, JSON.stringify(MAIL)])).toBe(ours)
    const { EIP712Domain: _, ...types } = MAIL.types
    expect(verifyTypedData(MAIL.domain, types, MAIL.message, ours)).toBe(ADDR0)
  })

  it('eth_signTransaction gives anvil bytes for fully specified 1559, legacy and 2930 transactions', async () => {
    for (const tx of TXS) {
      expect(await ok(both.devnet.url, 'eth_signTransaction', [tx])).toBe(
        await ok(both.anvil.url, 'eth_signTransaction', [tx]),
      )
    }
  })

  it('refuses accounts it holds no key for', async () => {
    const r = await rpc(both.devnet.url, 'eth_sign', ['0x1234567890123456789012345678901234567890', '0x00'])
    expect(r.error?.message).toMatch(/unknown account/)
  })

  it("ethers' JsonRpcSigner and viem's JSON-RPC account sign through the node", async () => {
    const provider = new JsonRpcProvider(both.devnet.url, CHAIN_ID, { staticNetwork: true })
    const signer = await provider.getSigner(ADDR0)
    const { EIP712Domain: _, ...types } = MAIL.types
    const sig = await signer.signTypedData(MAIL.domain, types, MAIL.message)
    expect(verifyTypedData(MAIL.domain, types, MAIL.message, sig)).toBe(ADDR0)
    expect(verifyMessage('hi', await signer.signMessage('hi'))).toBe(ADDR0)
    provider.destroy()

    const chain = defineChain({
      id: CHAIN_ID,
      name: 'Lattice devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [both.devnet.url] } },
    })
    const wallet = createWalletClient({ account: ADDR0, chain, transport: http(both.devnet.url) })
    const viemSig = await wallet.signTypedData({
      domain: { ...MAIL.domain, verifyingContract: MAIL.domain.verifyingContract as `0x${string}` },
      types,
      primaryType: 'Mail',
      message: MAIL.message,
    } as any)
    expect(viemSig).toBe(sig)
    expect(await wallet.signMessage({ message: 'hi' })).toBe(
      await ok(both.anvil.url, 'personal_sign', ['0x6869', ADDR0]),
    )
  })
})
