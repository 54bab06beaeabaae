import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { initDatadir, loadDatadirSpec } from '../../src/chain/datadir.ts'
import { DatadirMismatchError, DatadirNotInitialisedError, GenesisError } from '../../src/chain/errors.ts'
import { DEVNET_GENESIS_PATH, parseChainSpec } from '../../src/chain/genesis.ts'
import { SUITE_DIR } from '../conformance/execution-apis/runner.ts'
import { runCli } from '../helpers/cli.ts'
import { CONFORMANCE_SUITE, describeWith } from '../helpers/requires.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-init-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const devnet = () => JSON.parse(readFileSync(DEVNET_GENESIS_PATH, 'utf8'))

function rejects(mutate: (g: any) => void): string {
  const g = devnet()
  mutate(g)
  try {
    parseChainSpec(g)
  } catch (err) {
    expect(err).toBeInstanceOf(GenesisError)
    return (err as Error).message
  }
  throw new Error('expected the genesis to be refused')
}

describe('geth-format genesis validation', () => {
  it("accepts Lattice's devnet spec", () => {
    expect(parseChainSpec(devnet()).chainId).toBe(41232n)
  })

  it('names unknown fields at every level', () => {
    expect(rejects((g) => (g.gasLimt = '0x1'))).toMatch(/"gasLimt"/)
    expect(rejects((g) => (g.config.amsterdamTime = 0))).toMatch(/config\.amsterdamTime/)
    expect(rejects((g) => (g.config.blobSchedule.cancun.targt = 3))).toMatch(/config\.blobSchedule\.cancun\.targt/)
    expect(rejects((g) => (g.config.lattice.validatorz = []))).toMatch(/config\.lattice\.validatorz/)
    const addr = '0x1111111111111111111111111111111111111111'
    expect(rejects((g) => (g.alloc[addr] = { balanse: '0x1' }))).toMatch(new RegExp(`alloc\\.${addr}\\.balanse`))
  })

  it('names contradictory or malformed fields', () => {
    expect(rejects((g) => delete g.config.berlinBlock)).toMatch(/config\.londonBlock is set but .*config\.berlinBlock/)
    expect(rejects((g) => (g.config.londonBlock = 5))).toMatch(/config\.arrowGlacierBlock|config\.mergeNetsplitBlock/)
    expect(rejects((g) => (g.config.cancunTime = 10))).toMatch(
      /config\.pragueTime \(0\) is before .*config\.cancunTime/,
    )
    expect(rejects((g) => delete g.config.blobSchedule.prague)).toMatch(/config\.blobSchedule\.prague is missing/)
    expect(rejects((g) => (g.config.blobSchedule.osaka.target = 99))).toMatch(/osaka: target 99 is above max/)
    expect(
      rejects((g) => {
        g.config.ethash = {}
        g.config.clique = {}
      }),
    ).toMatch(/both "ethash" and "clique"/)
    expect(rejects((g) => (g.config.chainId = '1'))).toMatch(/config\.chainId/)
    expect(rejects((g) => (g.coinbase = '0x12'))).toMatch(/"coinbase" must be 20 bytes/)
    expect(
      rejects((g) => {
        g.config.lattice.inference = { profile: 'accelerated' }
        g.config.lattice.validators.push('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
      }),
    ).toMatch(/single validator/)
  })
})

describe('datadir initialisation', () => {
  it('stores the genesis, is idempotent, and refuses another genesis', async () => {
    const dir = join(tmp, 'a')
    const genesisPath = fileURLToPath(DEVNET_GENESIS_PATH)
    const { genesis } = await initDatadir({ datadir: dir, genesisPath })
    expect(loadDatadirSpec(dir).chainId).toBe(41232n)
    const again = await initDatadir({ datadir: dir, genesisPath })
    expect(again.genesis.hash()).toEqual(genesis.hash())
    const other = join(tmp, 'other.json')
    const g = devnet()
    g.extraData = '0x01'
    writeFileSync(other, JSON.stringify(g))
    await expect(initDatadir({ datadir: dir, genesisPath: other })).rejects.toBeInstanceOf(DatadirMismatchError)
  })

  it('tells how to initialise a datadir that has no genesis', () => {
    expect(() => loadDatadirSpec(join(tmp, 'nothing'))).toThrow(DatadirNotInitialisedError)
    expect(() => loadDatadirSpec(join(tmp, 'nothing'))).toThrow(/lattice init --genesis/)
  })
})

describeWith([CONFORMANCE_SUITE], 'the execution-apis genesis (PoW to BPO2, ethash, nulls)', () => {
  it('is accepted', () => {
    const hive = JSON.parse(readFileSync(join(SUITE_DIR, 'genesis.json'), 'utf8'))
    expect(parseChainSpec(hive).chainId).toBe(3503995874084926n)
  })
})

describeWith([CONFORMANCE_SUITE], 'CLI: init, import, export', () => {
  const run = runCli

  it('initialises from the execution-apis genesis, imports chain.rlp, exports a range', async () => {
    const dir = join(tmp, 'cli')
    const init = await run(['init', '--genesis', join(SUITE_DIR, 'genesis.json'), '--datadir', dir])
    expect(init.code).toBe(0)
    expect(init.out).toMatch(/Genesis hash: +0x44fd89d504659cd58f48f4796b77a7e7012cf296a2409afa2f6c3cb99b5b3d99/)
    const imp = await run(['import', '--datadir', dir, join(SUITE_DIR, 'chain.rlp')])
    expect(imp.code).toBe(0)
    // the head hash of the chain hive's forkchoice update names
    expect(imp.out).toMatch(
      /Imported 54 blocks .* Head #54 0xd226371d0b1551adb03fb52b71f08e3e11247fe9b1af994768af8cdaa8e7dcd7/,
    )
    const file = join(tmp, 'part.rlp')
    const exp = await run(['export', '--datadir', dir, file, '--from', '1', '--to', '36'])
    expect(exp.out).toMatch(/Exported 36 blocks/)
    // the exported PoW blocks are byte-identical to the suite's file
    expect(readFileSync(join(SUITE_DIR, 'chain.rlp')).subarray(0, readFileSync(file).length)).toEqual(
      readFileSync(file),
    )
  }, 60_000)
})
