import type { CliCommand } from '../command.ts'

/** `lattice devices`: which ONNX Runtime execution providers work on this machine (each one probed). */
export const devicesCommand: CliCommand = {
  name: 'devices',
  description: 'List the inference execution providers this machine can use (cpu, coreml, webgpu, cuda)',
  options: [{ flags: '--json', description: 'print JSON instead of a table' }],
  async run(_args, opts, io) {
    const { probeProviders, resolveDevice, onnxruntimeVersion } = await import('../../inference/onnx.ts')
    const { CONSENSUS_PROFILE } = await import('../../inference/profile.ts')
    const { checkRuntime } = await import('../../inference/wasm-check.ts')
    const all = await probeProviders()
    const auto = await resolveDevice('auto').catch(() => undefined)
    // the consensus runtime is WebAssembly: not a device, but whether its pinned files are the installed ones
    let consensus: { profile: string; runtime: string; ok: boolean; reason?: string }
    const pin = CONSENSUS_PROFILE.wasm
    const runtime = pin ? `${pin.package} ${pin.version} (${pin.file}, sha256 ${pin.sha256})` : 'onnxruntime-node'
    try {
      checkRuntime(CONSENSUS_PROFILE)
      consensus = { profile: CONSENSUS_PROFILE.id, runtime, ok: true }
    } catch (err) {
      consensus = { profile: CONSENSUS_PROFILE.id, runtime, ok: false, reason: (err as Error).message }
    }
    if (opts.json) {
      io.stdout.write(
        `${JSON.stringify({ onnxruntime: onnxruntimeVersion, consensusProfile: CONSENSUS_PROFILE.id, consensus, auto: auto ?? null, providers: all }, null, 2)}\n`,
      )
      return 0
    }
    const rows = all.map((p) => [p.provider, p.available ? 'yes' : 'no', p.available ? '' : (p.reason ?? '')])
    const w0 = Math.max(8, ...rows.map((r) => r[0].length))
    io.stdout.write(`${'provider'.padEnd(w0)}  available  note\n`)
    for (const r of rows) io.stdout.write(`${r[0].padEnd(w0)}  ${r[1].padEnd(9)}  ${r[2]}\n`)
    io.stdout.write(
      `\nauto -> ${auto ?? 'none'} (off-chain: lattice infer --device, lattice_infer fast; onnxruntime-node ${onnxruntimeVersion})\n`,
    )
    io.stdout.write(
      `consensus profile: ${consensus.profile} on ${consensus.runtime}, 1 thread, in worker threads: ${consensus.ok ? 'installed files match' : `MISMATCH: ${consensus.reason}`}\n`,
    )
    return 0
  },
}
