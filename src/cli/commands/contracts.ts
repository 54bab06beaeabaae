import type { CliCommand } from '../command.ts'

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
    const { applyPredeploys, compileContracts, CONTRACTS_ROOT, PREDEPLOYS, SOLC_VERSION } = await import(
      '../../chain/contracts.ts'
    )
    const { ContractCompileError } = await import('../../chain/errors.ts')
    const outDir = opts.out ? resolve(opts.out as string) : join(CONTRACTS_ROOT, 'build', 'contracts')
    const genesisPath = opts.genesis ? resolve(opts.genesis as string) : join(CONTRACTS_ROOT, 'genesis', 'devnet.json')

    let artifacts: Awaited<ReturnType<typeof compileContracts>>
    try {
      artifacts = compileContracts({ onWarning: (m) => io.stderr.write(`warning: ${m}\n`) })
    } catch (err) {
      if (!(err instanceof ContractCompileError)) throw err
      io.stderr.write(`error: ${err.shortMessage}\n${err.details ? `${err.details}\n` : ''}`)
      return 1
    }

    let text: string
    try {
      text = readFileSync(genesisPath, 'utf8')
    } catch {
      io.stderr.write(
        `error: no genesis at ${genesisPath}. Pass --genesis with the path of a geth-format genesis.json.\n`,
      )
      return 1
    }
    const before = JSON.parse(text) as Record<string, unknown>
    const after = `${JSON.stringify(applyPredeploys(before, artifacts), null, 2)}\n`
    // one ABI file per contract of contracts/: the only source of ABIs for src/ (src/chain/abi.ts)
    const abiDir = join(CONTRACTS_ROOT, ABI_DIR)
    const abis = Object.values(artifacts)
      .filter((a) => a.sourceName.startsWith('contracts/') && a.abi.length > 0)
      .map((a) => ({ file: join(abiDir, `${a.contractName}.json`), text: `${JSON.stringify(a.abi, null, 2)}\n` }))
    const staleAbis = abis.filter((a) => !existsSync(a.file) || readFileSync(a.file, 'utf8') !== a.text)
    if (opts.check) {
      if (staleAbis.length > 0) {
        io.stderr.write(
          `error: ${staleAbis.map((a) => a.file).join(', ')} differ from a fresh compile. Run \`npm run contracts:build\`.\n`,
        )
        return 1
      }
      if (after === text) {
        io.stdout.write(`${genesisPath}: predeploys match a fresh compile (solc ${SOLC_VERSION})\n`)
        return 0
      }
      io.stderr.write(
        `error: ${genesisPath} predeploys differ from a fresh compile. Run \`npm run contracts:build\`.\n`,
      )
      return 1
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
      const size = (artifacts[p.contract].deployedBytecode.length - 2) / 2
      io.stdout.write(
        `${p.contract} (${size} bytes) at ${p.address} in ${genesisPath}${after === text ? ' (unchanged)' : ''}\n`,
      )
    }
    return 0
  },
}
