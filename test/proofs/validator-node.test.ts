import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { attestorFor } from '../../src/chain/attestor.ts'
import { initDatadir } from '../../src/chain/datadir.ts'
import { DEVNET_GENESIS_PATH } from '../../src/chain/genesis.ts'
import { startNode } from '../../src/cli/node.ts'
import { NotAValidatorError } from '../../src/proofs/errors.ts'
import { ADDR0, KEY0, KEY1, rpc } from '../helpers/devnet.ts'

describe('lattice node --validator-key', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lattice-validator-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  it('signs with a genesis validator key, refuses any other key, and serves the validator set', async () => {
    await initDatadir({ datadir: tmp, genesisPath: fileURLToPath(DEVNET_GENESIS_PATH) })
    await expect(startNode({ datadir: tmp, port: 0, validatorKey: KEY1 })).rejects.toBeInstanceOf(NotAValidatorError)
    const node = await startNode({ datadir: tmp, port: 0, validatorKey: KEY0 })
    try {
      expect(attestorFor(node.node.chain)?.address).toBe(ADDR0.toLowerCase())
      const v = await rpc(node.server.url, 'lattice_getValidators')
      expect(v.result).toEqual({ chainId: '0xa110', validators: [ADDR0], threshold: '0x1' })
    } finally {
      await node.close()
    }
  })
})
