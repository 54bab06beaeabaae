import type { CliCommand } from '../command.ts'
import { CliFlagError, NodeRequestError, TransactionFailedError } from '../errors.ts'
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
  ],
  async run(_args, opts, io) {
    if (!opts.rpcUrl) {
      throw new CliFlagError('No chain given. Pass --rpc-url with the JSON-RPC URL of the chain to deploy on.')
    }
    const key = opts.privateKey as string | undefined
    if (!key || !/^(0x)?[0-9a-fA-F]{64}$/.test(key)) {
      throw new CliFlagError('No usable deployer key. Pass --private-key 0x<64 hex digits>.')
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
        throw new CliFlagError(`--validators: "${bad}" is not an address.`)
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
        throw new NodeRequestError(
          `Cannot ask the Lattice node at ${opts.latticeUrl} for its validators: ${rpcMessage(err)}. Pass --validators and --chain-id, or --lattice-url.`,
          { cause: err },
        )
      } finally {
        lattice.destroy()
      }
    }
    if (validators.length === 0) {
      throw new CliFlagError('The validator set is empty. Pass --validators A,B,...')
    }
    const threshold = opts.threshold !== undefined ? Number(opts.threshold) : defaultThreshold(validators.length)
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > validators.length) {
      throw new CliFlagError(`--threshold ${opts.threshold} must be between 1 and ${validators.length}.`)
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
      throw new TransactionFailedError(`Deploying at ${opts.rpcUrl} failed: ${rpcMessage(err)}`, { cause: err })
    } finally {
      provider.destroy()
    }
  },
}
