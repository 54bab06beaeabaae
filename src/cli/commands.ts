import type { CliCommand } from './command.ts'

/** Every CLI command, in help order. Each lives in its own file under src/cli/commands/. */
export async function loadCommands(): Promise<CliCommand[]> {
  // Loaded lazily so `lattice --help` does not pay for heavy imports (helia, onnxruntime).
  const modules = await Promise.all([
    import('./commands/devnet.ts'),
    import('./commands/init.ts'),
    import('./commands/node.ts'),
    import('./commands/import.ts'),
    import('./commands/export.ts'),
    import('./commands/devices.ts'),
    import('./commands/flops.ts'),
    import('./commands/infer.ts'),
    import('./commands/precompile-output.ts'),
    import('./commands/ipfs-add.ts'),
    import('./commands/ipfs-get.ts'),
    import('./commands/ipfs-stat.ts'),
    import('./commands/ipfs-pin-add.ts'),
    import('./commands/ipfs-pin-rm.ts'),
    import('./commands/ipfs-pin-ls.ts'),
    import('./commands/ipfs-pack.ts'),
    import('./commands/contracts.ts'),
    import('./commands/proof-get.ts'),
    import('./commands/proof-verify.ts'),
    import('./commands/proof-deploy-verifier.ts'),
    import('./commands/pinning-summary.ts'),
    import('./commands/model-deploy.ts'),
    import('./commands/model-import-hf.ts'),
    import('./commands/model-list.ts'),
    import('./commands/model-info.ts'),
    import('./commands/model-inference.ts'),
    import('./commands/model-update.ts'),
    import('./commands/model-deprecate.ts'),
    import('./commands/model-set-policy.ts'),
    import('./commands/model-allow.ts'),
    import('./commands/model-disallow.ts'),
    import('./commands/model-set-price.ts'),
    import('./commands/model-withdraw.ts'),
    import('./commands/model-set-tolerance.ts'),
    import('./commands/executor.ts'),
    import('./commands/executor-status.ts'),
    import('./commands/challenger.ts'),
    import('./commands/claim-challenge.ts'),
    import('./commands/mcp.ts'),
    import('./commands/network-up.ts'),
    import('./commands/network-down.ts'),
    import('./commands/network-status.ts'),
  ])
  return modules.flatMap((m) => Object.values(m).filter(isCommand))
}

function isCommand(v: unknown): v is CliCommand {
  return typeof v === 'object' && v !== null && 'name' in v && 'run' in v && 'options' in v
}
