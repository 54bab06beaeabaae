import { describe, expect, it } from 'vitest'
import { CliFlagError } from '../../src/cli/errors.ts'
import { parseIpfsNetworkFlags } from '../../src/cli/ipfs-network-flags.ts'

const PEER = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDoVZVzh5tK34D7dZuirWmHPKbEu7jjFbzCxjuLNF2WPq'

describe('lattice devnet IPFS networking flags', () => {
  it('leave IPFS networking off unless --ipfs-port or --ipfs-peer is given', () => {
    expect(parseIpfsNetworkFlags({})).toBeUndefined()
    expect(parseIpfsNetworkFlags({ host: '0.0.0.0' })).toBeUndefined()
    expect(parseIpfsNetworkFlags({ ipfsPort: '0' })).toEqual({ listen: ['/ip4/127.0.0.1/tcp/0'], peers: [] })
    expect(parseIpfsNetworkFlags({ ipfsPeer: [` ${PEER}`] })).toEqual({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      peers: [PEER],
    })
    // exposed RPC, exposed IPFS
    expect(parseIpfsNetworkFlags({ ipfsPort: '4101', host: '0.0.0.0' })?.listen).toEqual(['/ip4/0.0.0.0/tcp/4101'])
  })

  it('refuse a bad port or peer address with a message that says what to pass', () => {
    expect(() => parseIpfsNetworkFlags({ ipfsPort: '70000' })).toThrow(/--ipfs-port 70000 is not a port number/)
    expect(() => parseIpfsNetworkFlags({ ipfsPort: 'x' })).toThrow(CliFlagError)
    expect(() => parseIpfsNetworkFlags({ ipfsPeer: ['/ip4/127.0.0.1/tcp/4001'] })).toThrow(
      /--ipfs-peer \/ip4\/127.0.0.1\/tcp\/4001 is not a peer address/,
    )
  })
})
