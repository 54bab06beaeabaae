import type { CliCommand } from '../command.ts'
import { rpcMessage } from './proof-get.ts'

/** `lattice proof deploy-verifier`: deploy LatticeInferenceLightVerifier on any EVM chain. */
export const proofDeployVerifierCommand: CliCommand = {
  name: 'proof deploy-verifier',
  description: 'Deploy the Lattice light verifier (validator set + threshold) on any EVM chain',
  options: [
    { flags: '--rpc-url <url>', description: 'JSON-RPC URL of the chain to deploy on' },
    { flags: '--private-key <hex>', description: 'deployer key on that chain (0x + 64 hex digits)' },
    { flags: '--validators <a,b,...>', description: 'validator addresses (default: ask the Lattice node)' },
    { flags: '--threshold <n>', description: 'signatures required (default: more than two thirds of the set)' },
    {
      flags: '--chain-id <id>',
      description: 'the Lattice chain id the verifier trusts (default: ask the Lattice node)',
    },
    { flags: '--lattice-url <url>', description: 'Lattice node JSON-RPC URL', default: 'http://127.0.0.1:8545' },
    // the result is always printed as JSON; the flag is accepted so scripts can pass --json to every command
    { flags: '--json', description: 'print the result as JSON (the default output)' },
  ],
  async run(_args, opts, io) {
    if (!opts.rpcUrl) {
      io.stderr.write('error: no chain given. Pass --rpc-url with the JSON-RPC URL of the chain to deploy on.\n')
      return 1
    }
    const key = opts.privateKey as string | undefined
    if (!key || !/^(0x)?[0-9a-fA-F]{64}$/.test(key)) {
      io.stderr.write('error: no usable deployer key. Pass --private-key 0x<64 hex digits>.\n')
      return 1
    }
    const { ContractFactory, JsonRpcProvider, Wallet, getAddress, isAddress } = await import('ethers')
    const { defaultThreshold } = await import('../../proofs/attestation.ts')
    let validators: string[] | undefined
    if (opts.validators) {
      validators = String(opts.validators)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const bad = validators.find((v) => !isAddress(v))
      if (bad) {
        io.stderr.write(`error: --validators: "${bad}" is not an address.\n`)
        return 1
      }
    }
    let chainId = opts.chainId !== undefined ? BigInt(opts.chainId) : undefined
    if (validators === undefined || chainId === undefined) {
      const lattice = new JsonRpcProvider(opts.latticeUrl as string, undefined, { staticNetwork: true })
      try {
        const info = (await lattice.send('lattice_getValidators', [])) as { chainId: string; validators: string[] }
        validators ??= info.validators
        chainId ??= BigInt(info.chainId)
      } catch (err) {
        io.stderr.write(
          `error: cannot ask the Lattice node at ${opts.latticeUrl} for its validators: ${rpcMessage(err)}. Pass --validators and --chain-id, or --lattice-url.\n`,
        )
        return 1
      } finally {
        lattice.destroy()
      }
    }
    if (validators.length === 0) {
      io.stderr.write('error: the validator set is empty. Pass --validators A,B,...\n')
      return 1
    }
    const threshold = opts.threshold !== undefined ? Number(opts.threshold) : defaultThreshold(validators.length)
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > validators.length) {
      io.stderr.write(`error: --threshold ${opts.threshold} must be between 1 and ${validators.length}.\n`)
      return 1
    }
    // signatures must come in increasing signer order; the set itself may be in any order
    const set = validators.map((v) => getAddress(v))
    const { compileContracts } = await import('../../chain/contracts.ts')
    const art = compileContracts().LatticeInferenceLightVerifier
    const provider = new JsonRpcProvider(opts.rpcUrl as string, undefined, { staticNetwork: true })
    try {
      const wallet = new Wallet(key.startsWith('0x') ? key : `0x${key}`, provider)
      const factory = new ContractFactory(art.abi as any, art.bytecode, wallet)
      const contract = await factory.deploy(chainId, set, threshold)
      await contract.waitForDeployment()
      const address = await contract.getAddress()
      io.stdout.write(
        `${JSON.stringify({ address, latticeChainId: chainId.toString(), validators: set, threshold, tx: contract.deploymentTransaction()?.hash }, null, 2)}\n`,
      )
      return 0
    } catch (err) {
      io.stderr.write(`error: deploying at ${opts.rpcUrl} failed: ${rpcMessage(err)}\n`)
      return 1
    } finally {
      provider.destroy()
    }
  },
}
