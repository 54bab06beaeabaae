import { describe, expect, it } from 'vitest'
import { CliFlagError } from '../../src/cli/errors.ts'
import { checkBootnodes, parseP2PFlags } from '../../src/cli/p2p.ts'

const ENODE = '/ip4/127.0.0.1/tcp/30303/p2p/12D3KooWDoVZVzh5tK34D7dZuirWmHPKbEu7jjFbzCxjuLNF2WPq'

describe('lattice node peering flags', () => {
  it('leave peering off unless --p2p.port or --bootnodes is given', () => {
    expect(parseP2PFlags({})).toBeUndefined()
    expect(parseP2PFlags({ 'p2p.addr': '0.0.0.0' })).toBeUndefined()
    expect(parseP2PFlags({ 'p2p.port': '0' })).toEqual({ port: 0, addr: '127.0.0.1', bootnodes: [] })
    expect(parseP2PFlags({ bootnodes: ` ${ENODE}, ${ENODE}` })).toEqual({
      port: 0,
      addr: '127.0.0.1',
      bootnodes: [ENODE, ENODE],
    })
  })

  it('refuse a bad port, address or bootnode with a message that says what to pass', async () => {
    expect(() => parseP2PFlags({ 'p2p.port': '70000' })).toThrow(/--p2p.port 70000 is not a port number/)
    expect(() => parseP2PFlags({ 'p2p.port': '1', 'p2p.addr': 'localhost' })).toThrow(CliFlagError)
    await expect(checkBootnodes({ port: 0, bootnodes: ['/ip4/127.0.0.1/tcp/30303'] })).rejects.toThrow(
      /--bootnodes: .*does not end in \/p2p\/<peer id>/,
    )
    await expect(checkBootnodes({ port: 0, bootnodes: ['enode://abc@1.2.3.4:30303'] })).rejects.toThrow(CliFlagError)
    await expect(checkBootnodes({ port: 0, bootnodes: [ENODE] })).resolves.toBeUndefined()
  })
})
