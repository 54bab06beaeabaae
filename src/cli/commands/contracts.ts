import { ContractCompileError } from '../../chain/errors.ts'
import { type CliCommand, printResult } from '../command.ts'
import { CheckFailedError, CliFlagError } from '../errors.ts'

/** `lattice contracts build`: compile contracts/, write artifacts, put the predeploys' code into the genesis. */
export const contractsBuildCommand: CliCommand = {
  name: 'contracts build',
  description: 'Compile contracts/ with the pinned solc, write build/contracts/<Name>.json and the genesis predeploys',
  options: [
    { flags: '--out <dir>', description: 'artifact directory (default: build/contracts in the repository)' },
    { flags: '--genesis <file>', description: 'genesis file to update (default: genesis/devnet.json)' },
    { flags: '--check', description: 'write nothing; exit 1 if the genesis predeploys differ from a fresh compile' },
  ],
  async run(_args, opts, io) {
    const { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = await import('node:fs')
    const { ABI_DIR } = await import('../../chain/abi.ts')
    const { join, resolve } = await import('node:path')
    const { applyPredeploys, compileContracts, CONTRACTS_ROOT, evmVersionOf, PREDEPLOYS, SOLC_SETTINGS, SOLC_VERSION } =
      await import('../../chain/contracts.ts')
    const outDir = opts.out ? resolve(opts.out as string) : join(CONTRACTS_ROOT, 'build', 'contracts')
    const genesisPath = opts.genesis ? resolve(opts.genesis as string) : join(CONTRACTS_ROOT, 'genesis', 'devnet.json')

    // a ContractCompileError carries solc's messages as details; the runner prints them
    const artifacts = compileContracts({ onWarning: (m) => io.stderr.write(`warning: ${m}\n`) })

    let text: string
    try {
      text = readFileSync(genesisPath, 'utf8')
    } catch {
      throw new CliFlagError(
        `No genesis at ${genesisPath}. Pass --genesis with the path of a geth-format genesis.json.`,
      )
    }
    const before = JSON.parse(text) as Record<string, unknown>
    // the predeploys run on the genesis's own fork: a Shanghai genesis gets a Shanghai build (no Cancun opcodes)
    let predeployArtifacts = artifacts
    try {
      const evmVersion = evmVersionOf(before)
      if (evmVersion !== SOLC_SETTINGS.evmVersion) predeployArtifacts = compileContracts({ evmVersion })
    } catch (err) {
      if (!(err instanceof ContractCompileError)) throw err
      throw new ContractCompileError(`${genesisPath}: ${err.shortMessage}`, err.details)
    }
    const after = `${JSON.stringify(applyPredeploys(before, predeployArtifacts), null, 2)}\n`
    // one ABI file per contract of contracts/: the only source of ABIs for src/ (src/chain/abi.ts)
    const abiDir = join(CONTRACTS_ROOT, ABI_DIR)
    const abis = Object.values(artifacts)
      .filter((a) => a.sourceName.startsWith('contracts/') && a.abi.length > 0)
      .map((a) => ({ file: join(abiDir, `${a.contractName}.json`), text: `${JSON.stringify(a.abi, null, 2)}\n` }))
    const staleAbis = abis.filter((a) => !existsSync(a.file) || readFileSync(a.file, 'utf8') !== a.text)
    if (opts.check) {
      if (staleAbis.length > 0) {
        throw new CheckFailedError(
          `${staleAbis.map((a) => a.file).join(', ')} differ from a fresh compile. Run \`npm run contracts:build\`.`,
        )
      }
      if (after !== text) {
        throw new CheckFailedError(
          `${genesisPath} predeploys differ from a fresh compile. Run \`npm run contracts:build\`.`,
        )
      }
      printResult(
        io,
        { genesis: genesisPath, solc: SOLC_VERSION, upToDate: true },
        `${genesisPath}: predeploys match a fresh compile (solc ${SOLC_VERSION})`,
      )
      return 0
    }

    mkdirSync(abiDir, { recursive: true })
    for (const a of staleAbis) writeFileSync(a.file, a.text)
    mkdirSync(outDir, { recursive: true })
    for (const a of Object.values(artifacts)) {
      writeFileSync(join(outDir, `${a.contractName}.json`), `${JSON.stringify(a, null, 2)}\n`)
    }
    io.stdout.write(`Compiled ${Object.keys(artifacts).length} contracts with solc ${SOLC_VERSION} -> ${outDir}\n`)
    if (after !== text) {
      // Write beside and rename so an interrupted build never leaves half a genesis file.
      const tmp = `${genesisPath}.tmp`
      writeFileSync(tmp, after)
      renameSync(tmp, genesisPath)
    }
    for (const p of PREDEPLOYS) {
      const size = (predeployArtifacts[p.contract].deployedBytecode.length - 2) / 2
      io.stdout.write(
        `${p.contract} (${size} bytes) at ${p.address} in ${genesisPath}${after === text ? ' (unchanged)' : ''}\n`,
      )
    }
    return 0
  },
}
